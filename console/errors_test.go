package console

import (
	"context"
	"errors"
	"fmt"
	"net/http"
	"testing"

	"github.com/amqpemu/amqpemu/alerts"
	"github.com/amqpemu/amqpemu/broker"
	"github.com/amqpemu/amqpemu/devices"
	"github.com/amqpemu/amqpemu/logservice"
)

func TestErrorFor(t *testing.T) {
	wrap := func(err error) error { return fmt.Errorf("doing something: %w", err) }
	tests := []struct {
		name         string
		err          error
		wantStatus   int
		wantCode     string
		wantInternal bool
	}{
		{"group not found", wrap(broker.ErrGroupNotFound), http.StatusNotFound, CodeGroupNotFound, false},
		{"group exists", wrap(broker.ErrGroupExists), http.StatusConflict, CodeGroupExists, false},
		{"invalid group name", wrap(broker.ErrInvalidGroupName), http.StatusBadRequest, CodeInvalidGroupName, false},
		{"too many groups", wrap(broker.ErrTooManyGroups), http.StatusConflict, CodeTooManyGroups, false},
		{"default group", broker.ErrDefaultGroup, http.StatusConflict, CodeDefaultGroup, false},
		{"group in use", wrap(broker.ErrGroupInUse), http.StatusConflict, CodeGroupInUse, false},
		{"too many members", wrap(broker.ErrTooManyMembers), http.StatusConflict, CodeTooManyClients, false},
		{"group active", wrap(broker.ErrGroupActive), http.StatusConflict, CodeGroupActive, false},
		{"topic not found", wrap(broker.ErrTopicNotFound), http.StatusBadRequest, CodeTopicNotFound, false},
		{"partition not found", wrap(broker.ErrPartitionNotFound), http.StatusBadRequest, CodePartitionNotFound, false},
		{"offset out of range", wrap(broker.ErrOffsetOutOfRange), http.StatusBadRequest, CodeOffsetOutOfRange, false},
		{"invalid message", wrap(broker.ErrInvalidMessage), http.StatusBadRequest, CodeInvalidMessage, false},
		{"invalid argument", wrap(broker.ErrInvalidArgument), http.StatusBadRequest, CodeInvalidArgument, false},
		{"invalid name", wrap(broker.ErrInvalidName), http.StatusBadRequest, CodeInvalidName, false},
		{"message too large", wrap(broker.ErrMessageTooLarge), http.StatusRequestEntityTooLarge, CodeMessageTooLarge, false},
		{"alert rule not found", wrap(alerts.ErrRuleNotFound), http.StatusNotFound, CodeAlertNotFound, false},
		{"device not found", wrap(devices.ErrDeviceNotFound), http.StatusNotFound, CodeDeviceNotFound, false},
		{"device exists", wrap(devices.ErrDeviceExists), http.StatusConflict, CodeDeviceExists, false},
		{"product not found", wrap(devices.ErrProductNotFound), http.StatusNotFound, CodeProductNotFound, false},
		{"state not found", wrap(broker.ErrStateNotFound), http.StatusNotFound, CodeNotFound, false},
		{"engine unavailable", wrap(broker.ErrUnavailable), http.StatusServiceUnavailable, CodeUnavailable, false},
		{"closed", wrap(broker.ErrClosed), http.StatusServiceUnavailable, CodeUnavailable, false},
		{"deadline", wrap(context.DeadlineExceeded), http.StatusGatewayTimeout, CodeTimeout, false},
		{"canceled", wrap(context.Canceled), http.StatusServiceUnavailable, CodeUnavailable, false},
		{"console error", errorf(http.StatusBadRequest, CodeInvalidJSON, "x"), http.StatusBadRequest, CodeInvalidJSON, false},
		{"wrapped console error", wrap(errorf(http.StatusUnauthorized, CodeUnauthorized, "x")), http.StatusUnauthorized, CodeUnauthorized, false},
		{"body too large", wrap(&http.MaxBytesError{Limit: 10}), http.StatusRequestEntityTooLarge, CodeBodyTooLarge, false},
		{"anything else", errors.New("disk on fire"), http.StatusInternalServerError, CodeInternalError, true},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			e, internal := errorFor(tt.err)
			if e.Status != tt.wantStatus || e.Code != tt.wantCode || internal != tt.wantInternal {
				t.Fatalf("errorFor(%v) = %d %s internal=%v, want %d %s internal=%v",
					tt.err, e.Status, e.Code, internal, tt.wantStatus, tt.wantCode, tt.wantInternal)
			}
			if e.Message == "" {
				t.Fatal("empty message")
			}
			if internal && e.Message == tt.err.Error() {
				t.Fatal("an internal error's text reached the client")
			}
		})
	}
}

// TestEverySentinelMapped keeps the table complete: each exported broker
// (alerts, devices) sentinel has a non-500 answer.
func TestEverySentinelMapped(t *testing.T) {
	for _, err := range []error{
		broker.ErrGroupNotFound, broker.ErrGroupExists, broker.ErrInvalidGroupName, broker.ErrTooManyGroups,
		broker.ErrDefaultGroup, broker.ErrGroupInUse, broker.ErrTooManyMembers, broker.ErrInvalidMessage,
		broker.ErrInvalidArgument, broker.ErrClosed, broker.ErrInvalidName, broker.ErrMessageTooLarge, broker.ErrUnavailable,
		broker.ErrInvalidPage, broker.ErrStateNotFound, alerts.ErrRuleNotFound,
		devices.ErrDeviceNotFound, devices.ErrDeviceExists, devices.ErrProductNotFound,
		logservice.ErrProjectNotFound, logservice.ErrLogstoreNotFound, logservice.ErrGroupNotFound, logservice.ErrForwardNotFound,
	} {
		if _, internal := errorFor(err); internal {
			t.Errorf("%v maps to 500", err)
		}
	}
}

func TestPosition(t *testing.T) {
	str := func(s string) *string { return &s }
	num := func(n int64) *int64 { return &n }
	tests := []struct {
		name    string
		to      *string
		ts      *int64
		want    broker.Position
		wantErr bool
	}{
		{"earliest", str("earliest"), nil, broker.Position{Earliest: true}, false},
		{"latest", str("latest"), nil, broker.Position{Latest: true}, false},
		{"timestamp", nil, num(1700000000000), broker.Position{}, false},
		{"neither", nil, nil, broker.Position{}, true},
		{"both", str("latest"), num(1), broker.Position{}, true},
		{"other word", str("beginning"), nil, broker.Position{}, true},
		{"case matters", str("Earliest"), nil, broker.Position{}, true},
		{"zero timestamp", nil, num(0), broker.Position{}, true},
		{"negative timestamp", nil, num(-1), broker.Position{}, true},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			p, err := position(tt.to, tt.ts)
			if (err != nil) != tt.wantErr {
				t.Fatalf("err = %v, wantErr %v", err, tt.wantErr)
			}
			if err != nil {
				if e, _ := errorFor(err); e.Status != http.StatusBadRequest || e.Code != CodeInvalidArgument {
					t.Fatalf("error answer %d %s", e.Status, e.Code)
				}
				return
			}
			if tt.ts != nil {
				if p.Time.UnixMilli() != *tt.ts || p.Earliest || p.Latest {
					t.Fatalf("position %+v", p)
				}
				return
			}
			if p != tt.want {
				t.Fatalf("position %+v, want %+v", p, tt.want)
			}
		})
	}
}
