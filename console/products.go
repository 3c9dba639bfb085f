package console

import (
	"net/http"

	"github.com/amqpemu/amqpemu/broker"
)

// subscriptionJSON is a product's subscription as the REST API shows it.
type subscriptionJSON struct {
	Groups []string `json:"groups"`
	Kinds  []string `json:"kinds"`
}

func toSubscriptionJSON(sub broker.Subscription) subscriptionJSON {
	out := subscriptionJSON{Groups: sub.Groups, Kinds: sub.Kinds}
	if out.Groups == nil {
		out.Groups = []string{}
	}
	if out.Kinds == nil {
		out.Kinds = []string{}
	}
	return out
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
	if err := s.b.SetSubscription(r.Context(), pk, broker.Subscription{Groups: in.Groups, Kinds: in.Kinds}); err != nil {
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
