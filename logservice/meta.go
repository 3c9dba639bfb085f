package logservice

import (
	"context"
	"encoding/json"
	"errors"
	"fmt"
	"strings"

	"github.com/amqpemu/amqpemu/broker"
)

// Metadata of projects and logstores, one JSON value per key of a
// broker.StateBucket, so that it lives in --data beside the shards'
// streams:
//
//	project.<project>             projectMeta
//	logstore.<project>.<logstore> logstoreMeta
//
// Neither name holds '.', so the keys cannot collide.
const bucketName = "logservice"

type projectMeta struct {
	Name        string `json:"projectName"`
	Description string `json:"description"`
	CreateTime  int64  `json:"createTime"`
}

type logstoreMeta struct {
	Name          string `json:"logstoreName"`
	TTL           int    `json:"ttl"` // days; foreverTTL keeps data for ever
	ShardCount    int    `json:"shardCount"`
	AutoSplit     bool   `json:"autoSplit"`
	MaxSplitShard int    `json:"maxSplitShard"`
	AppendMeta    bool   `json:"appendMeta"`
	TelemetryType string `json:"telemetryType"`
	CreateTime    int64  `json:"createTime"`
}

// shard names shard id of this logstore for the broker.
func (m *logstoreMeta) shard(project string, id int) broker.LogShard {
	return broker.LogShard{Project: project, Logstore: m.Name, ID: id}
}

type store struct{ bucket *broker.StateBucket }

func projectKey(p string) string     { return "project." + p }
func logstoreKey(p, l string) string { return "logstore." + p + "." + l }

// get reads key into v; found is false for an absent key.
func (st *store) get(ctx context.Context, key string, v any) (found bool, err error) {
	raw, err := st.bucket.Get(ctx, key)
	if errors.Is(err, broker.ErrStateNotFound) {
		return false, nil
	}
	if err != nil {
		return false, err
	}
	if err := json.Unmarshal(raw, v); err != nil {
		return false, fmt.Errorf("stored %s is damaged: %w", key, err)
	}
	return true, nil
}

func (st *store) put(ctx context.Context, key string, v any) error {
	raw, err := json.Marshal(v)
	if err != nil {
		return err
	}
	return st.bucket.Put(ctx, key, raw)
}

// project returns the project, or ProjectNotExist.
func (st *store) project(ctx context.Context, name string) (*projectMeta, error) {
	p := &projectMeta{}
	found, err := st.get(ctx, projectKey(name), p)
	if err != nil {
		return nil, err
	}
	if !found {
		return nil, errorf(errProjectNotExist, "The Project does not exist : %s", name)
	}
	return p, nil
}

// logstore returns the logstore of an existing project, or
// ProjectNotExist / LogStoreNotExist.
func (st *store) logstore(ctx context.Context, project, name string) (*logstoreMeta, error) {
	if _, err := st.project(ctx, project); err != nil {
		return nil, err
	}
	if err := checkLogstoreName(name); err != nil {
		return nil, errorf(errLogStoreNotExist, "logstore %s does not exist", quote(name))
	}
	m := &logstoreMeta{}
	found, err := st.get(ctx, logstoreKey(project, name), m)
	if err != nil {
		return nil, err
	}
	if !found {
		return nil, errorf(errLogStoreNotExist, "logstore %s does not exist", name)
	}
	return m, nil
}

// logstores lists an existing project's logstore names, sorted, or
// answers ProjectNotExist.
func (st *store) logstores(ctx context.Context, project string) ([]string, error) {
	if _, err := st.project(ctx, project); err != nil {
		return nil, err
	}
	keys, err := st.bucket.Keys(ctx)
	if err != nil {
		return nil, err
	}
	prefix := logstoreKey(project, "")
	names := []string{}
	for _, k := range keys {
		if name, ok := strings.CutPrefix(k, prefix); ok {
			names = append(names, name)
		}
	}
	return names, nil
}
