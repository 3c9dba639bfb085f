package iot

import (
	"context"
	"errors"
	"fmt"
	"net/http"
	"testing"

	"github.com/amqpemu/amqpemu/broker"
	"github.com/amqpemu/amqpemu/openapi"
)

// TestEverySentinelMapped keeps the table complete: each exported broker
// sentinel, and each refusal of the actions, has an answer that is not the
// generic system error.
func TestEverySentinelMapped(t *testing.T) {
	for _, err := range []error{
		broker.ErrGroupNotFound, broker.ErrGroupExists, broker.ErrInvalidGroupName, broker.ErrTooManyGroups,
		broker.ErrDefaultGroup, broker.ErrGroupInUse, broker.ErrTooManyMembers, broker.ErrInvalidMessage,
		broker.ErrInvalidArgument, broker.ErrClosed, broker.ErrInvalidName, broker.ErrMessageTooLarge, broker.ErrUnavailable,
		broker.ErrInvalidPage,
		errMNS, errRelationExists, errRelationNotFound, errNoKinds, errOnlyGroup, errNotSubscribed, errInvalidTopic,
	} {
		e := errorFor(fmt.Errorf("doing something: %w", err))
		if e.Code == CodeSystemException || e.Err != nil || e.Message == "" {
			t.Errorf("%v maps to %+v", err, e)
		}
	}
}

func TestErrorFor(t *testing.T) {
	wrap := func(err error) error { return fmt.Errorf("x: %w", err) }
	tests := []struct {
		name       string
		err        error
		wantStatus int
		wantCode   string
	}{
		{"not found", wrap(broker.ErrGroupNotFound), 200, CodeGroupNotFound},
		// An id no group could have is both not-found and invalid: not-found wins.
		{"bad id", fmt.Errorf("%w (%w): bad", broker.ErrGroupNotFound, broker.ErrInvalidName), 200, CodeGroupNotFound},
		{"bad product key", wrap(broker.ErrInvalidName), 200, CodeInvalidProductKey},
		{"default group", broker.ErrDefaultGroup, 200, CodeDefaultGroup},
		{"in use", wrap(broker.ErrGroupInUse), 200, CodeGroupInUse},
		{"page", wrap(broker.ErrInvalidPage), 200, CodeInvalidPage},
		{"mns", wrap(errMNS), 200, CodeTypeNotSupported},
		{"unavailable", wrap(broker.ErrUnavailable), http.StatusServiceUnavailable, openapi.CodeServiceUnavailable},
		{"deadline", wrap(context.DeadlineExceeded), http.StatusServiceUnavailable, openapi.CodeServiceUnavailable},
		{"anything else", errors.New("disk on fire"), 200, CodeSystemException},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			e := errorFor(tt.err)
			if e.Status != tt.wantStatus || e.Code != tt.wantCode {
				t.Fatalf("errorFor(%v) = %d %s, want %d %s", tt.err, e.Status, e.Code, tt.wantStatus, tt.wantCode)
			}
			if tt.wantCode == CodeSystemException && (e.Err == nil || e.Message != "") {
				t.Fatalf("an internal error is %+v: its text must stay in the log", e)
			}
		})
	}
}

func TestDeviceOf(t *testing.T) {
	for _, tt := range []struct {
		topic, want string
		ok          bool
	}{
		{"/pk/dev1/user/get", "dev1", true},
		{"/pk/dev.1/user/a/b", "dev.1", true},
		{"/other/dev1/user/get", "", false},
		{"/pk/dev1", "", false},
		{"/pk/dev1/", "", false},
		{"/pk//user/get", "", false},
		{"pk/dev1/user/get", "", false},
		{"/pk/dev1/user/+", "", false},
		{"/pk/dev1/user/#", "", false},
		{"/pk/dev 1/user/get", "", false},
		{"/pkx/dev1/user/get", "", false},
	} {
		dn, err := deviceOf("pk", tt.topic)
		if (err == nil) != tt.ok || dn != tt.want {
			t.Errorf("deviceOf(pk, %q) = %q, %v", tt.topic, dn, err)
		}
		if err != nil && !errors.Is(err, errInvalidTopic) {
			t.Errorf("%q: %v is not errInvalidTopic", tt.topic, err)
		}
	}
}
