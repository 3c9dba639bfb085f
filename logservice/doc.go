// Package logservice serves the log service's HTTP API (projects,
// logstores, shards, PutLogs, GetCursor, PullLogs) as the vendor's Go SDK
// (github.com/aliyun/aliyun-log-go-sdk) sends it, over the broker's
// JetStream: each shard is a stream of its own (broker.LogShard), and the
// project and logstore metadata live in a broker.StateBucket.
//
// The SDK reaches the emulator through HTTP_PROXY: it names the project in
// the Host ({project}.{endpoint}) of absolute-form requests, signs them with
// "LOG ak:signature" (HMAC-SHA1), and parses errors from
// {"errorCode","errorMessage"} bodies with the x-log-requestid header.
package logservice
