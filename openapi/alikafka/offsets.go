package alikafka

import (
	"encoding/json"
	"fmt"
	"strconv"
	"strings"
)

// parseOffsets reads UpdateConsumerOffset's Offsets in the forms SDKs and
// the documentation send: [{"Partition":"0","Offset":"5"}] (the Go SDK:
// field names, string values), [{"partition":1,"offset":1}] (the docs),
// [{"Offset":5,"Partition":0}] (the new SDK), and null or nothing (the Go
// SDK sends null when Offsets is unset). Keys are case-insensitive.
func parseOffsets(raw string) (map[int32]int64, error) {
	raw = strings.TrimSpace(raw)
	if raw == "" || raw == "null" {
		return nil, nil
	}
	var items []map[string]json.RawMessage
	if err := json.Unmarshal([]byte(raw), &items); err != nil {
		return nil, fmt.Errorf("%w: %v (want a JSON array of {\"Partition\", \"Offset\"})", errBadOffsets, err)
	}
	out := make(map[int32]int64, len(items))
	for i, it := range items {
		var part, off *int64
		for k, v := range it {
			n, err := number(v)
			if err != nil {
				return nil, fmt.Errorf("%w: item %d: %s: %v", errBadOffsets, i, k, err)
			}
			switch strings.ToLower(k) {
			case "partition":
				part = &n
			case "offset":
				off = &n
			}
		}
		switch {
		case part == nil || off == nil:
			return nil, fmt.Errorf("%w: item %d needs Partition and Offset", errBadOffsets, i)
		case *part < 0 || *part > 1<<20:
			return nil, fmt.Errorf("%w: item %d: partition %d", errBadOffsets, i, *part)
		case *off < 0:
			return nil, fmt.Errorf("%w: item %d: offset %d", errBadOffsets, i, *off)
		}
		out[int32(*part)] = *off
	}
	return out, nil
}

// number reads a JSON number or a string holding one.
func number(v json.RawMessage) (int64, error) {
	var s string
	if json.Unmarshal(v, &s) == nil {
		return strconv.ParseInt(strings.TrimSpace(s), 10, 64)
	}
	var n json.Number
	if err := json.Unmarshal(v, &n); err != nil {
		return 0, err
	}
	return n.Int64()
}
