package console

import (
	"net/http"

	"github.com/amqpemu/amqpemu/broker"
)

// subscriptionJSON is a product's subscription as the REST API shows it.
// Groups may be named by id or name in a PUT; the answer has ids.
type subscriptionJSON struct {
	Groups []string        `json:"groups"`
	Kinds  []string        `json:"kinds"`
	Flags  map[string]bool `json:"subscribeFlags,omitempty"`
}

func toSubscriptionJSON(sub broker.Subscription) subscriptionJSON {
	out := subscriptionJSON{Groups: sub.Groups, Kinds: sub.Kinds, Flags: sub.Flags}
	if out.Groups == nil {
		out.Groups = []string{}
	}
	if out.Kinds == nil {
		out.Kinds = []string{}
	}
	return out
}

// listSubscriptions answers every product's subscription, by product key,
// and the message kinds a subscription may name (for forms and scripts).
func (s *Server) listSubscriptions(w http.ResponseWriter, r *http.Request) error {
	all, err := s.b.Subscriptions(r.Context())
	if err != nil {
		return err
	}
	out := make(map[string]subscriptionJSON, len(all))
	for pk, sub := range all {
		out[pk] = toSubscriptionJSON(sub)
	}
	return writeJSON(w, http.StatusOK, struct {
		Subscriptions map[string]subscriptionJSON `json:"subscriptions"`
		KnownKinds    []string                    `json:"knownKinds"`
	}{out, broker.Kinds})
}

// getSubscription answers a product's subscription; a product without one
// has empty lists.
func (s *Server) getSubscription(w http.ResponseWriter, r *http.Request) error {
	sub, err := s.b.Subscription(r.Context(), r.PathValue("pk"))
	if err != nil {
		return err
	}
	return writeJSON(w, http.StatusOK, toSubscriptionJSON(sub))
}

// putSubscription replaces a product's subscription and answers it as
// stored (kinds default to ["data"]).
func (s *Server) putSubscription(w http.ResponseWriter, r *http.Request) error {
	var in subscriptionJSON
	if err := decode(w, r, &in); err != nil {
		return err
	}
	pk := r.PathValue("pk")
	if err := s.b.SetSubscription(r.Context(), pk, broker.Subscription{Groups: in.Groups, Kinds: in.Kinds, Flags: in.Flags}); err != nil {
		return err
	}
	sub, err := s.b.Subscription(r.Context(), pk)
	if err != nil {
		return err
	}
	return writeJSON(w, http.StatusOK, toSubscriptionJSON(sub))
}

func (s *Server) deleteSubscription(w http.ResponseWriter, r *http.Request) error {
	if err := s.b.DeleteSubscription(r.Context(), r.PathValue("pk")); err != nil {
		return err
	}
	w.WriteHeader(http.StatusNoContent)
	return nil
}
