package logservice

import (
	"fmt"
	"math/big"
	"net/http"
	"strconv"
	"strings"
)

// Shards split the 128-bit hash key space (MD5-sized, written as 32
// lower-case hex digits) into equal ranges, as a new logstore's shards do
// on the vendor's service: shard i of n holds keys in [i·2¹²⁸/n, (i+1)·2¹²⁸/n).

const keyDigits = 32

var keySpace = new(big.Int).Lsh(big.NewInt(1), 128)

// beginKey is the first hash key of shard i of n.
func beginKey(i, n int) string {
	k := new(big.Int).Mul(keySpace, big.NewInt(int64(i)))
	k.Div(k, big.NewInt(int64(n)))
	return fmt.Sprintf("%0*x", keyDigits, k)
}

// endKey is shard i's exclusive end; the last shard's is the largest key
// written in 32 digits, as the vendor's service lists it.
func endKey(i, n int) string {
	if i == n-1 {
		return strings.Repeat("f", keyDigits)
	}
	return beginKey(i+1, n)
}

// shardForKey routes a hash key: hex digits, most significant first (the
// producer's AdjustHash keeps only the leading ones and pads with '0's),
// so a short key is padded on the right.
func shardForKey(key string, n int) (int, error) {
	k := strings.ToLower(key)
	if k == "" || len(k) > keyDigits || strings.Trim(k, "0123456789abcdef") != "" {
		return 0, errorf(errParameterInvalid, "hash key %s is not up to %d hex digits", quote(key), keyDigits)
	}
	k += strings.Repeat("0", keyDigits-len(k))
	for i := n - 1; i > 0; i-- {
		if k >= beginKey(i, n) {
			return i, nil
		}
	}
	return 0, nil
}

// ListShards: GET /logstores/{logstore}/shards.
func (s *Server) listShards(w http.ResponseWriter, r *request, logstore string) error {
	m, err := s.meta.logstore(r.Context(), r.project, logstore)
	if err != nil {
		return err
	}
	type shard struct {
		ID         int    `json:"shardID"`
		Status     string `json:"status"`
		Begin      string `json:"inclusiveBeginKey"`
		End        string `json:"exclusiveEndKey"`
		CreateTime int64  `json:"createTime"`
	}
	out := make([]shard, m.ShardCount)
	for i := range out {
		out[i] = shard{ID: i, Status: "readwrite", Begin: beginKey(i, m.ShardCount), End: endKey(i, m.ShardCount), CreateTime: m.CreateTime}
	}
	return writeJSON(w, out)
}

// shardID parses a shard path segment of logstore m.
func shardID(m *logstoreMeta, seg string) (int, error) {
	id, err := strconv.Atoi(seg)
	if err != nil || id < 0 || id >= m.ShardCount {
		return 0, errorf(errShardNotExist, "Shard %s does not exist", quote(seg))
	}
	return id, nil
}
