// Package history keeps, in memory, recent samples of every consumer
// group's counters (accumulation, real-time and backlog rates, online
// clients) for the web console's charts and for scripts
// (GET /api/v1/groups/{id}/history). A Sampler reads the broker every
// Config.Every and keeps Config.Keep of samples per group in a fixed-size
// ring, so its memory is bounded; nothing is persisted.
package history
