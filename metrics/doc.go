// Package metrics holds amqpemu's Prometheus metrics: a collector that reads
// the broker's groups, backlog and online clients at scrape time, and the
// counters the front ends increment. Everything is registered on a registry
// the caller owns; nothing touches Prometheus's global registry.
package metrics
