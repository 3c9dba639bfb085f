package alikafka

import (
	"context"
	"errors"
	"fmt"
	"testing"

	"github.com/amqpemu/amqpemu/broker"
)

// TestEverySentinelMapped: each broker sentinel the actions can meet, and
// each refusal of their own, has an answer that is not the server fault.
func TestEverySentinelMapped(t *testing.T) {
	for _, err := range []error{
		broker.ErrTopicNotFound, broker.ErrKafkaGroupUnknown, broker.ErrTopicExists, broker.ErrKafkaGroupExists,
		broker.ErrPartitionNotFound, broker.ErrInvalidName, broker.ErrInvalidArgument, broker.ErrClosed, broker.ErrUnavailable,
		errGroupActive, errBadOffsets, context.DeadlineExceeded,
	} {
		e := errorFor(fmt.Errorf("doing something: %w", err))
		if e.Code == CodeSystem || e.Err != nil || e.Message == "" || e.Status < 400 {
			t.Errorf("%v maps to %+v", err, e)
		}
	}
	if e := errorFor(errors.New("other")); e.Code != CodeSystem || e.Err == nil {
		t.Fatalf("unknown error maps to %+v", e)
	}
}

func TestParseOffsets(t *testing.T) {
	cases := []struct {
		in      string
		want    map[int32]int64
		wantErr bool
	}{
		{`[{"Partition":"0","Offset":"5"},{"Partition":"1","Offset":"7"}]`, map[int32]int64{0: 5, 1: 7}, false},
		{`[{"partition":1,"offset":1}]`, map[int32]int64{1: 1}, false},
		{`[{"Offset":5,"Partition":0}]`, map[int32]int64{0: 5}, false},
		{`null`, nil, false},
		{``, nil, false},
		{`[{"Partition":"0"}]`, nil, true},
		{`[{"Partition":"a","Offset":"1"}]`, nil, true},
		{`[{"Partition":0,"Offset":-1}]`, nil, true},
		{`{"Partition":0}`, nil, true},
	}
	for _, c := range cases {
		got, err := parseOffsets(c.in)
		if (err != nil) != c.wantErr || (err != nil && !errors.Is(err, errBadOffsets)) {
			t.Fatalf("%s: err %v", c.in, err)
		}
		if fmt.Sprint(got) != fmt.Sprint(c.want) {
			t.Fatalf("%s: %v, want %v", c.in, got, c.want)
		}
	}
}
