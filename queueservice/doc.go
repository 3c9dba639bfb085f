// Package queueservice is the queue service facade (the consumer groups of
// Huawei Cloud DMS queues) over the broker's queue streams: queues, their
// consumer groups, producing, long-poll consuming and acknowledging with
// handlers, at /v1.0/{project_id}/queues/… (the API pages' paths) and
// /v2/{project_id}/queues/… (what the vendor's Go SDK up to v0.1.42 sent).
//
// Every request carries the vendor SDK's SDK-HMAC-SHA256 signature, made
// with the emulator's access key pair; it is verified here (sign.go).
//
// A queue is a broker queue stream, each of its consumer groups a durable
// reader on it, and what the API tells of them (names, creation times,
// settings) lives in a state bucket, so all of it survives restarts and is
// shared by every node on one engine. A handler is the delivery's engine
// reply subject, encoded: any node can acknowledge it.
//
// The data methods (service.go) are apart from the thin HTTP handlers
// (server.go); errors are mapped to the vendor's answers in one place
// (errors.go).
package queueservice
