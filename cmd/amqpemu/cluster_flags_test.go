package main

import (
	"io"
	"strings"
	"testing"
)

// The cluster flags: accepted combinations reach the broker's Config, the
// others are refused naming the flag.
func TestClusterFlags(t *testing.T) {
	for _, tc := range []clusterCase{
		{args: nil},
		{args: []string{"--nats-url", "nats://a:4222,nats://b:4222", "--replicas", "3"}},
		{args: []string{"--server-name", "n1", "--cluster-listen", "127.0.0.1:6222",
			"--routes", "nats-route://127.0.0.1:6222,nats-route://127.0.0.1:6223", "--replicas", "3"}},
		{env: map[string]string{"AMQPEMU_SERVER_NAME": "n1", "AMQPEMU_CLUSTER_LISTEN": ":6222",
			"AMQPEMU_ROUTES": "nats-route://b:6222", "AMQPEMU_REPLICAS": "3", "AMQPEMU_CLUSTER_NAME": "c1"}},
		{args: []string{"--replicas", "0"}, wantErr: "--replicas 0: want 1 to 5"},
		{args: []string{"--replicas", "6", "--nats-url", "nats://a:4222"}, wantErr: "--replicas 6: want 1 to 5"},
		{args: []string{"--replicas", "3"}, wantErr: "--replicas 3 needs a JetStream cluster"},
		{args: []string{"--routes", "nats-route://b:6222"}, wantErr: "--routes needs --cluster-listen"},
		{args: []string{"--cluster-listen", ":6222"}, wantErr: "--cluster-listen needs --server-name"},
		{args: []string{"--server-name", "n1", "--cluster-listen", "6222"}, wantErr: "--cluster-listen \"6222\": want host:port"},
		{args: []string{"--server-name", "n1", "--cluster-listen", ":6222", "--routes", "b:6222"}, wantErr: "--routes: \"b:6222\": want nats-route://host:port"},
		{args: []string{"--nats-url", "nats://a:4222", "--cluster-listen", ":6222"}, wantErr: "with --nats-url the cluster is the external one"},
		{env: map[string]string{"AMQPEMU_REPLICAS": "many"}, wantErr: "AMQPEMU_REPLICAS"},
	} {
		t.Run(strings.Join(tc.args, " "), func(t *testing.T) {
			for k, v := range tc.env {
				t.Setenv(k, v) // restored when the subtest ends
			}
			tc.check(t)
		})
	}
}

type clusterCase struct {
	args    []string
	env     map[string]string // environment twins set for the case
	wantErr string            // "" accepts
}

func (tc clusterCase) check(t *testing.T) {
	t.Helper()
	f, err := parseServeFlags(tc.args, io.Discard, io.Discard)
	switch {
	case tc.wantErr == "" && err != nil:
		t.Errorf("%v %v: %v", tc.args, tc.env, err)
	case tc.wantErr != "" && (err == nil || !strings.Contains(err.Error(), tc.wantErr)):
		t.Errorf("%v %v: error %v, want one containing %q", tc.args, tc.env, err, tc.wantErr)
	case err == nil && tc.env["AMQPEMU_REPLICAS"] == "3" && (f.replicas != 3 || f.clusterName != "c1" || f.routes == ""):
		t.Errorf("environment twins not applied: %+v", f)
	}
}
