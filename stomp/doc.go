// Package stomp serves consumer groups over STOMP 1.2, as the vendor's
// Python 3 (stomp.py) and PHP (stomp-php) samples consume them on port
// 61614: CONNECT with the signed user name and password, SUBSCRIBE to
// /topic/#, receive each device message as a MESSAGE frame, acknowledge in
// the subscription's ack mode. STOMP 1.0 and 1.1 clients are served too
// (node stomp-client, Perl Net::Stomp, PHP's PECL stomp): 1.0 ones may
// SUBSCRIBE without an id, and their headers are not escaped. Every frame
// written ends with NUL and an EOL, as RabbitMQ and ActiveMQ end them.
//
// A connection is bound to its principal's consumer group and holds at
// most one subscription, which is one member of that group in the broker.
// Per connection one goroutine reads and handles client frames and one
// writes (batching frames, flushing when its queue is empty, sending
// heart-beats); broker deliveries reach the writer through a queue whose
// length the member's credit bounds. Every error is an ERROR frame followed
// by closing the connection (§ERROR); the server goes on serving the rest.
package stomp
