// Package alerts evaluates alert rules on consumer groups, as the
// platform's CloudMonitor does for the "IoT Platform-AMQP Consumer Group"
// product, and fires their webhooks.
//
// A Rule watches one metric of one group (or of every group, "*"):
// AccumulationCount (the backlog), ConsumerSpeed (messages consumed per
// minute) or OnlineClientCount. The Evaluator samples the metric every
// second into statistical periods aligned to multiples of the rule's
// period since the epoch; when a period closes, its statistic (Average,
// Maximum or Minimum of the samples) is compared with the threshold. After
// Times breaching periods in a row the rule enters ALERT and the webhook is
// called; while it stays in ALERT the webhook is called again at most once
// per SilenceTime; the first period that does not breach returns it to OK
// with a recovery call. Outside EffectiveInterval nothing is evaluated.
//
// Rules, their state per group and the recent notifications live in a
// broker.StateBucket, so a restart neither loses a count of consecutive
// periods nor notifies again inside a mute period.
//
// The Evaluator is also the management service (List, Get, Create, Update,
// Delete, History) behind the REST API, and a prometheus.Collector source.
//
// Lock order: Evaluator.evalMu before Evaluator.mu. No lock is held while a
// webhook is called.
package alerts
