<?php
// A consumer written as PHP's PECL stomp extension (Debian php-stomp, STOMP
// 1.0) is used, driven by clients_test.go: Stomp::subscribe sends ack:client
// and no id header; each message is printed as a JSON line (the body
// Base64-encoded) and acknowledged with Stomp::ack($frame), which copies the
// MESSAGE's headers. Exits 0 once it has received COUNT messages; 1 on an
// ERROR frame, a lost connection or after 60 s.
//
// Environment: HOST, PORT, LOGIN, PASSCODE, COUNT.

function fail($why) {
    fwrite(STDERR, "php_consumer: $why\n");
    exit(1);
}

$want = (int) getenv('COUNT');
$deadline = time() + 60;
$received = 0;
try {
    $stomp = new Stomp('tcp://' . getenv('HOST') . ':' . getenv('PORT'), getenv('LOGIN'), getenv('PASSCODE'));
    $stomp->setReadTimeout(1);
    $stomp->subscribe('/topic/#');
    while ($received < $want) {
        if (time() > $deadline) {
            fail("timed out after 60 s with $received of $want messages");
        }
        if (!$stomp->hasFrame()) {
            continue;
        }
        $frame = $stomp->readFrame();
        if ($frame === false) {
            fail('readFrame: ' . $stomp->error());
        }
        if ($frame->command !== 'MESSAGE') {
            fail("unexpected $frame->command frame");
        }
        $h = $frame->headers;
        echo json_encode([
            'destination' => $h['destination'] ?? null,
            'messageId' => $h['messageId'] ?? null,
            'messageIdHeader' => $h['message-id'] ?? null,
            'generateTime' => $h['generateTime'] ?? null,
            'topic' => $h['topic'] ?? null,
            'body' => base64_encode($frame->body ?? ''),
        ]), "\n";
        if (!$stomp->ack($frame)) {
            fail('ack: ' . $stomp->error());
        }
        $received++;
    }
    unset($stomp); // sends DISCONNECT
} catch (StompException $e) {
    fail('StompException: ' . $e->getMessage() . ' ' . $e->getDetails());
}
exit(0);
