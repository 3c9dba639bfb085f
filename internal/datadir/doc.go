// Package datadir guards amqpemu's data directory: it checks that the
// directory is usable and holds an OS file lock on DATA/amqpemu.lock for the
// life of the process, so a second process on the same directory fails at
// once instead of sharing (and corrupting) the JetStream store.
package datadir
