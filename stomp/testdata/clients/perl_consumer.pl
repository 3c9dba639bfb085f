#!/usr/bin/perl
# A consumer written as Perl's Net::Stomp (Debian libnet-stomp-perl, STOMP
# 1.0) is used, driven by clients_test.go: it subscribes to /topic/# with
# ack:client and no id header, as Net::Stomp's SYNOPSIS does, prints each
# message it receives as a JSON line (the body Base64-encoded), acknowledges
# it (Net::Stomp's ack names the message-id), and exits 0 once it has
# received COUNT messages; 1 on an ERROR frame, a lost connection or after
# 60 s.
#
# Environment: HOST, PORT, LOGIN, PASSCODE, COUNT.
use strict;
use warnings;
use JSON::PP;
use MIME::Base64;
use Net::Stomp;

$| = 1;
my $want = $ENV{COUNT};
my $deadline = time + 60;
sub fail { print STDERR "perl_consumer: @_\n"; exit 1 }

my $stomp = Net::Stomp->new({ hostname => $ENV{HOST}, port => $ENV{PORT}, reconnect_attempts => 1 });
my $connected = $stomp->connect({ login => $ENV{LOGIN}, passcode => $ENV{PASSCODE} });
fail("CONNECT answered by " . ($connected ? $connected->command . " " . ($connected->headers->{message} // "") : "nothing"))
    unless $connected && $connected->command eq 'CONNECTED';
$stomp->subscribe({ destination => '/topic/#', ack => 'client' });

my $json = JSON::PP->new->canonical;
my $received = 0;
while ($received < $want) {
    fail("timed out after 60 s with $received of $want messages") if time > $deadline;
    next unless $stomp->can_read({ timeout => 1 });
    my $frame = $stomp->receive_frame({ timeout => 5 });
    fail("connection lost") unless defined $frame;
    fail("ERROR " . ($frame->headers->{message} // "")) if $frame->command eq 'ERROR';
    next unless $frame->command eq 'MESSAGE';
    my $h = $frame->headers;
    print $json->encode({
        destination     => $h->{destination},
        messageId       => $h->{messageId},
        messageIdHeader => $h->{'message-id'},
        generateTime    => $h->{generateTime},
        topic           => $h->{topic},
        body            => encode_base64($frame->body // '', ''),
    }), "\n";
    $stomp->ack({ frame => $frame });
    $received++;
}
$stomp->disconnect;
exit 0;
