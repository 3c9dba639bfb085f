package alerts

import (
	"bytes"
	"context"
	"crypto/hmac"
	"crypto/rand"
	"crypto/sha1"
	"encoding/base64"
	"encoding/json"
	"errors"
	"fmt"
	"io"
	"net/http"
	"net/url"
	"slices"
	"strconv"
	"strings"
	"time"
)

// Fixed fields of the callbacks.
const (
	namespace        = "acs_iot"
	productGroupName = "IoT Platform-AMQP Consumer Group"
	region           = "local"
)

// delivery is one notification on its way to a webhook.
type delivery struct {
	rule        Rule
	note        Notification // completed by the sender
	url         string
	contentType string
	body        []byte
}

// newDelivery builds a notification's callback request.
func (e *Evaluator) newDelivery(r Rule, groupID, groupName string, ev *event) *delivery {
	fields := callbackFields(r, groupID, groupName, ev, e.userID)
	fields["signature"] = signature(fields, e.secret)
	d := &delivery{
		rule: r, url: r.Webhook,
		note: Notification{Time: ev.at.UTC(), Group: groupID, GroupName: groupName, AlertState: ev.state, Value: ev.value},
	}
	if r.WebhookFormat == FormatJSON {
		d.contentType, d.body = "application/json", callbackJSON(fields, groupID, groupName, ev)
	} else {
		form := url.Values{}
		for k, v := range fields {
			form.Set(k, v)
		}
		d.contentType, d.body = "application/x-www-form-urlencoded", []byte(form.Encode())
	}
	return d
}

// callbackFields is the platform's current callback field set, every value
// as the form-encoded body carries it.
func callbackFields(r Rule, groupID, groupName string, ev *event, userID string) map[string]string {
	level, pre := levelCritical, ev.pre
	if ev.state == StateOK {
		level = levelOK
	}
	if pre == "" {
		pre = "null" // as the platform sends it
	}
	return map[string]string{
		"alertName":        r.Name,
		"alertState":       ev.state,
		"curValue":         formatNumber(ev.value),
		"dimensions":       "{groupId=" + groupID + ", groupName=" + groupName + "}",
		"expression":       r.expression(),
		"metricName":       r.Metric,
		"rawMetricName":    r.Metric,
		"metricProject":    namespace,
		"namespace":        namespace,
		"productGroupName": productGroupName,
		"instanceName":     groupName,
		"groupId":          groupID,
		"ruleId":           r.ID,
		"timestamp":        strconv.FormatInt(ev.at.UnixMilli(), 10),
		"triggerLevel":     level,
		"preTriggerLevel":  pre,
		"lastTime":         strconv.Itoa(int(ev.alerting/time.Minute)) + "分钟",
		"transId":          newUUID(),
		"regionId":         region,
		"regionName":       region,
		"unit":             unit(r.Metric),
		"userId":           userID,
	}
}

// callbackJSON is the JSON body: the same fields, numbers as numbers and
// dimensions as an object.
func callbackJSON(fields map[string]string, groupID, groupName string, ev *event) []byte {
	obj := make(map[string]any, len(fields))
	for k, v := range fields {
		obj[k] = v
	}
	obj["curValue"] = ev.value
	obj["timestamp"] = ev.at.UnixMilli()
	obj["dimensions"] = map[string]string{"groupId": groupID, "groupName": groupName}
	if ev.pre == "" {
		obj["preTriggerLevel"] = nil
	}
	data, _ := json.Marshal(obj) // strings, numbers and a map of strings always marshal
	return data
}

// signature is amqpemu's own signature of a callback (how the platform
// computes its signature is not documented): the base64 of the HMAC-SHA1,
// keyed with the configured secret, of every other field as key=value
// (values unescaped, as the form body's fields decode), sorted by key and
// joined with '&'. A JSON body carries the same signature, computed over
// the same string values.
func signature(fields map[string]string, secret string) string {
	keys := make([]string, 0, len(fields))
	for k := range fields {
		if k != "signature" {
			keys = append(keys, k)
		}
	}
	slices.Sort(keys)
	var sb strings.Builder
	for i, k := range keys {
		if i > 0 {
			sb.WriteByte('&')
		}
		sb.WriteString(k + "=" + fields[k])
	}
	mac := hmac.New(sha1.New, []byte(secret))
	mac.Write([]byte(sb.String()))
	return base64.StdEncoding.EncodeToString(mac.Sum(nil))
}

// newUUID is a random (version 4) UUID.
func newUUID() string {
	var b [16]byte
	rand.Read(b[:])
	b[6] = b[6]&0x0f | 0x40
	b[8] = b[8]&0x3f | 0x80
	return fmt.Sprintf("%x-%x-%x-%x-%x", b[0:4], b[4:6], b[6:8], b[8:10], b[10:16])
}

// enqueue hands d to the sender; evalMu is held. A full queue fails the
// notification at once rather than hold up the evaluation.
func (e *Evaluator) enqueue(d *delivery) {
	e.mu.Lock()
	if e.closed {
		e.mu.Unlock()
		return
	}
	e.pending++
	if e.pending == 1 {
		e.idle = make(chan struct{})
	}
	e.mu.Unlock()
	select {
	case e.queue <- d:
	default:
		d.note.Error = "not sent: the delivery queue is full (webhooks too slow)"
		e.log.Warn().Str("rule", d.rule.ID).Str("group", d.note.Group).Msg("alert notification dropped: the delivery queue is full")
		e.recordLocked(d)
	}
}

// sendLoop delivers the queued notifications one at a time, until Close
// closes the queue.
func (e *Evaluator) sendLoop() {
	defer close(e.senderDone)
	for d := range e.queue {
		e.deliver(d)
		e.record(d)
	}
}

// deliver POSTs d, up to maxAttempts times, filling in d.note.
func (e *Evaluator) deliver(d *delivery) {
	for {
		d.note.Attempts++
		status, err := e.post(d)
		d.note.HTTPStatus, d.note.Error = status, ""
		if err == nil {
			return
		}
		d.note.Error = err.Error()
		if d.note.Attempts == maxAttempts || !e.pause() {
			e.log.Warn().Err(err).Str("rule", d.rule.ID).Str("group", d.note.Group).Int("attempts", d.note.Attempts).
				Msg("alert notification not delivered")
			return
		}
	}
}

// pause waits between attempts; false if the sender is being stopped.
func (e *Evaluator) pause() bool {
	t := time.NewTimer(e.retryWait)
	defer t.Stop()
	select {
	case <-t.C:
		return true
	case <-e.sendCtx.Done():
		return false
	}
}

// post makes one attempt: a transport error or a status other than 2xx
// fails it.
func (e *Evaluator) post(d *delivery) (int, error) {
	req, err := http.NewRequestWithContext(e.sendCtx, http.MethodPost, d.url, bytes.NewReader(d.body))
	if err != nil {
		return 0, err
	}
	req.Header.Set("Content-Type", d.contentType)
	req.Header.Set("User-Agent", "amqpemu-alerts")
	resp, err := e.client.Do(req)
	if err != nil {
		var ue *url.Error
		if errors.As(err, &ue) {
			err = ue.Err // the URL is the rule's, known to whoever reads this
		}
		return 0, err
	}
	defer resp.Body.Close()
	io.Copy(io.Discard, io.LimitReader(resp.Body, 64<<10)) // lets the connection be reused
	if resp.StatusCode < 200 || resp.StatusCode > 299 {
		return resp.StatusCode, fmt.Errorf("the webhook answered %s", resp.Status)
	}
	return resp.StatusCode, nil
}

// record adds a delivered (or failed) notification to its rule's history.
func (e *Evaluator) record(d *delivery) {
	e.evalMu.Lock()
	defer e.evalMu.Unlock()
	e.recordLocked(d)
}

// recordLocked is record with evalMu held.
func (e *Evaluator) recordLocked(d *delivery) {
	result := "ok"
	if d.note.Error != "" {
		result = "failed"
	}
	e.mu.Lock()
	en := e.rules[d.rule.ID]
	if en != nil { // not deleted meanwhile
		en.history = slices.Insert(en.history, 0, d.note)
		en.history = en.history[:min(len(en.history), maxHistory)]
		e.counts[countKey{d.rule.ID, d.note.AlertState, result}]++
	}
	e.mu.Unlock()
	if en != nil {
		ctx, cancel := context.WithTimeout(context.Background(), evaluateBudget)
		if err := e.write(ctx, historyPrefix+d.rule.ID, en.history); err != nil {
			e.log.Warn().Err(err).Str("rule", d.rule.ID).Msg("storing alert history")
		}
		cancel()
	}
	e.mu.Lock()
	e.pending--
	if e.pending == 0 {
		close(e.idle)
	}
	e.mu.Unlock()
}
