package main

import (
	"encoding/json"
	"flag"
	"strings"
	"testing"
	"time"
)

// TestGroupsResetPartitionFlags: --partition P=POSITION and the body
// groups reset sends for its flags.
func TestGroupsResetPartitionFlags(t *testing.T) {
	at := time.Date(2025, 6, 1, 8, 0, 0, 0, time.UTC)
	parse := func(args ...string) (partitionFlags, error) {
		fs := flag.NewFlagSet("t", flag.ContinueOnError)
		fs.SetOutput(new(strings.Builder))
		var parts partitionFlags
		fs.Var(&parts, "partition", "")
		return parts, fs.Parse(args)
	}
	parts, err := parse("--partition", "0=5", "--partition", "1=earliest", "--partition", "2=latest", "--partition", "3="+at.Format(time.RFC3339), "--partition", "4=0")
	if err != nil {
		t.Fatal(err)
	}
	body, target, err := resetRequest("", "", "pk1", parts)
	if err != nil {
		t.Fatal(err)
	}
	data, _ := json.Marshal(body)
	want := `{"topic":"pk1","partitions":[{"partition":0,"offset":5},{"partition":1,"to":"earliest"},{"partition":2,"to":"latest"},{"partition":3,"timestamp":1748764800000},{"partition":4,"offset":0}]}`
	if string(data) != want {
		t.Errorf("body %s\nwant %s", data, want)
	}
	if want := "in topic pk1: partition 0 to offset 5, partition 1 to earliest, partition 2 to latest, partition 3 to 2025-06-01T08:00:00Z, partition 4 to offset 0"; target != want {
		t.Errorf("target %q", target)
	}
	if s := parts.String(); !strings.HasPrefix(s, "0=offset 5,1=earliest") {
		t.Errorf("String %q", s)
	}

	for _, bad := range [][]string{
		{"--partition", "5"}, {"--partition", "=5"}, {"--partition", "0="}, {"--partition", "x=5"}, {"--partition", "-1=5"},
		{"--partition", "0=-5"}, {"--partition", "0=soon"}, {"--partition", "0=1748764800000x"}, {"--partition", "0=1", "--partition", "0=2"},
	} {
		if _, err := parse(bad...); err == nil {
			t.Errorf("%q parsed", bad)
		}
	}
	one := partitionFlags{{Partition: 0, To: "latest"}}
	for _, c := range []struct {
		to, at, topic string
		parts         partitionFlags
	}{
		{"", "", "pk1", nil}, {"", "", "", one}, {"earliest", "", "pk1", one}, {"", "1", "pk1", one},
		{"", "", "", nil}, {"middle", "", "", nil}, {"earliest", "1", "", nil}, {"", "yesterday", "", nil},
	} {
		if body, _, err := resetRequest(c.to, c.at, c.topic, c.parts); err == nil {
			t.Errorf("%+v: %v accepted", c, body)
		}
	}
	// The whole-group forms are as before.
	if body, target, err := resetRequest("earliest", "", "", nil); err != nil || target != "to earliest" || body.(map[string]string)["to"] != "earliest" {
		t.Errorf("--to earliest: %v %q %v", body, target, err)
	}
	if body, _, err := resetRequest("", "1748764800000", "", nil); err != nil || body.(map[string]int64)["timestamp"] != 1748764800000 {
		t.Errorf("--time: %v %v", body, err)
	}
}
