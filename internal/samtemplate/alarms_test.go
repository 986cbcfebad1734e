package samtemplate_test

import (
	"maps"
	"slices"
	"strings"
	"testing"

	"github.com/awslabs/goformation/v7/cloudformation/cloudwatch"
)

// wantAlarm is what one alarm on a single metric must say.
type wantAlarm struct {
	namespace, metric, stat string
	dims                    map[string]string // name -> value as goformation resolves it
}

func TestAlarms(t *testing.T) {
	t.Parallel()
	tpl := loadTemplate(t, nil)
	alarms := tpl.GetAllCloudWatchAlarmResources()
	if len(alarms) != 6 {
		t.Errorf("%d alarms, want 6: %v", len(alarms), slices.Sorted(maps.Keys(alarms)))
	}
	// NewVersionErrorsAlarm, the rollback trigger, is read through SAM's
	// translator (TestNewVersionErrorsAlarm).
	// goformation resolves a !Ref to a resource as "": the YAML check
	// below says which resource.
	single := map[string]wantAlarm{
		"FunctionErrorsAlarm":          {"AWS/Lambda", "Errors", "Sum", map[string]string{"FunctionName": ""}},
		"FunctionThrottlesAlarm":       {"AWS/Lambda", "Throttles", "Sum", map[string]string{"FunctionName": ""}},
		"SecretsManagerThrottledAlarm": {"maskresolver", "Throttled", "Sum", map[string]string{"Service": "maskresolver"}},
	}
	for name, w := range single {
		a, ok := alarms[name]
		if !ok {
			t.Errorf("alarm %s missing", name)
			continue
		}
		if deref(a.Namespace) != w.namespace || deref(a.MetricName) != w.metric || deref(a.Statistic) != w.stat {
			t.Errorf("%s watches %s %s %s, want %s %s %s", name, deref(a.Namespace), deref(a.MetricName), deref(a.Statistic), w.namespace, w.metric, w.stat)
		}
		dims := map[string]string{}
		for _, d := range a.Dimensions {
			dims[d.Name] = d.Value
		}
		if !maps.Equal(dims, w.dims) {
			t.Errorf("%s dimensions %v, want %v", name, dims, w.dims)
		}
		if a.Period == nil || *a.Period != 300 || a.EvaluationPeriods != 1 {
			t.Errorf("%s: period %v × %d, want 300 s × 1", name, a.Period, a.EvaluationPeriods)
		}
		checkAnyAbove(t, name, a, 0)
	}
	res := node(t, rawTemplate(t), "Resources")
	for _, name := range []string{"FunctionErrorsAlarm", "FunctionThrottlesAlarm"} {
		d := node(t, res, name, "Properties", "Dimensions")
		if len(d.Content) != 1 {
			t.Fatalf("%s has %d dimensions", name, len(d.Content))
		}
		assertScalar(t, node(t, d.Content[0], "Value"), name+" FunctionName", "!Ref", "ResolverFunction")
	}
	// The EMF alarm follows the namespace parameter and needs no other
	// dimension than Service (the per-Code series are not watched).
	assertScalar(t, node(t, res, "SecretsManagerThrottledAlarm", "Properties", "Namespace"), "SecretsManagerThrottledAlarm.Namespace", "!Ref", "MetricsNamespace")
	emf := loadTemplate(t, map[string]any{"MetricsNamespace": "acme/resolver"}).GetAllCloudWatchAlarmResources()["SecretsManagerThrottledAlarm"]
	if emf == nil || deref(emf.Namespace) != "acme/resolver" {
		t.Error("SecretsManagerThrottledAlarm does not follow MetricsNamespace")
	}
	checkQuotaPressureAlarm(t, alarms["SecretsManagerQuotaPressureAlarm"])
	assertScalar(t, node(t, res, "SecretsManagerQuotaPressureAlarm", "Properties", "Threshold"), "SecretsManagerQuotaPressureAlarm.Threshold", "!Ref", "QuotaPressureThreshold")

	checkRateAlarm(t, alarms["Api5xxRateAlarm"])
	m := node(t, res, "Api5xxRateAlarm", "Properties", "Metrics")
	for _, q := range m.Content {
		if ms := lookup(q, "MetricStat"); ms != nil {
			d := node(t, ms, "Metric", "Dimensions")
			if len(d.Content) != 1 {
				t.Fatalf("Api5xxRateAlarm query has %d dimensions, want ApiId only", len(d.Content))
			}
			assertScalar(t, node(t, d.Content[0], "Value"), "Api5xxRateAlarm ApiId", "!Ref", "HttpApi")
		}
	}
}

// checkAnyAbove asserts a "more than threshold" alarm that quiet periods
// (no datapoints) do not trip.
func checkAnyAbove(t *testing.T, name string, a *cloudwatch.Alarm, threshold float64) {
	t.Helper()
	if a.ComparisonOperator != "GreaterThanThreshold" || a.Threshold == nil || *a.Threshold != threshold {
		t.Errorf("%s: %s %v, want GreaterThanThreshold %v", name, a.ComparisonOperator, a.Threshold, threshold)
	}
	if deref(a.TreatMissingData) != "notBreaching" {
		t.Errorf("%s TreatMissingData %q, want notBreaching", name, deref(a.TreatMissingData))
	}
}

// checkRateAlarm asserts the API's 5xx rate: 5xx / Count of the HTTP API's
// metrics over 5 minutes, above 5 %.
func checkRateAlarm(t *testing.T, a *cloudwatch.Alarm) {
	t.Helper()
	if a == nil {
		t.Fatal("alarm Api5xxRateAlarm missing")
	}
	if a.MetricName != nil || a.Namespace != nil || a.Statistic != nil {
		t.Error("Api5xxRateAlarm mixes a single metric with metric math")
	}
	checkAnyAbove(t, "Api5xxRateAlarm", a, 5)
	stats := map[string]string{} // id -> metric name
	var expr []string
	for _, q := range a.Metrics {
		switch {
		case q.MetricStat != nil:
			m := q.MetricStat.Metric
			if deref(m.Namespace) != "AWS/ApiGateway" || q.MetricStat.Stat != "Sum" || q.MetricStat.Period != 300 {
				t.Errorf("query %s: %s %s every %d s, want AWS/ApiGateway Sum every 300 s", q.Id, deref(m.Namespace), q.MetricStat.Stat, q.MetricStat.Period)
			}
			if len(m.Dimensions) != 1 || m.Dimensions[0].Name != "ApiId" {
				t.Errorf("query %s dimensions %+v, want ApiId", q.Id, m.Dimensions)
			}
			if deref(q.ReturnData) {
				t.Errorf("query %s returns data; only the rate may", q.Id)
			}
			stats[q.Id] = deref(m.MetricName)
		case q.Expression != nil:
			if !deref(q.ReturnData) {
				t.Errorf("expression %s does not return data", q.Id)
			}
			expr = append(expr, *q.Expression)
		}
	}
	var errID, countID string
	for id, m := range stats {
		switch m {
		case "5xx":
			errID = id
		case "Count":
			countID = id
		}
	}
	if len(stats) != 2 || errID == "" || countID == "" {
		t.Fatalf("metric queries %v, want 5xx and Count", stats)
	}
	if len(expr) != 1 || !strings.Contains(expr[0], "100 * "+errID+" / "+countID) {
		t.Errorf("expressions %q, want one percentage 100 * %s / %s", expr, errID, countID)
	}
}

// checkQuotaPressureAlarm: the alarm on throttles that retries absorbed
// watches the function's EMF metric per minute and fires only when the
// pressure lasts (3 of 5 minutes), so that one deploy's cold storm, which
// the retries absorb in seconds, does not page anyone.
func checkQuotaPressureAlarm(t *testing.T, a *cloudwatch.Alarm) {
	t.Helper()
	if a == nil {
		t.Fatal("SecretsManagerQuotaPressureAlarm missing")
	}
	if deref(a.Namespace) != "maskresolver" || deref(a.MetricName) != "ThrottlesAbsorbed" || deref(a.Statistic) != "Sum" {
		t.Errorf("quota pressure alarm watches %s %s %s", deref(a.Namespace), deref(a.MetricName), deref(a.Statistic))
	}
	if len(a.Dimensions) != 1 || a.Dimensions[0].Name != "Service" || a.Dimensions[0].Value != "maskresolver" {
		t.Errorf("quota pressure alarm dimensions %+v", a.Dimensions)
	}
	if a.Period == nil || *a.Period != 60 || a.EvaluationPeriods != 5 || a.DatapointsToAlarm == nil || *a.DatapointsToAlarm != 3 {
		t.Errorf("quota pressure alarm: period %v, %d periods, %v to alarm; want 60 s, 3 of 5", a.Period, a.EvaluationPeriods, a.DatapointsToAlarm)
	}
	checkAnyAbove(t, "SecretsManagerQuotaPressureAlarm", a, 60)
}

func TestAlarmActions(t *testing.T) {
	t.Parallel()
	for name, a := range loadTemplate(t, nil).GetAllCloudWatchAlarmResources() {
		if len(a.AlarmActions) != 0 || len(a.OKActions) != 0 {
			t.Errorf("%s notifies %v / %v although AlarmTopicArn is empty", name, a.AlarmActions, a.OKActions)
		}
	}
	topic := "arn:aws:sns:us-east-1:111122223333:maskresolver-alarms"
	for name, a := range loadTemplate(t, map[string]any{"AlarmTopicArn": topic}).GetAllCloudWatchAlarmResources() {
		if !slices.Equal(a.AlarmActions, []string{topic}) || !slices.Equal(a.OKActions, []string{topic}) {
			t.Errorf("%s notifies %v / %v, want %s", name, a.AlarmActions, a.OKActions, topic)
		}
	}
	topicArn, none := assertNotEquals(t, node(t, rawTemplate(t), "Conditions", "HasAlarmTopic"), "HasAlarmTopic")
	assertScalar(t, topicArn, "HasAlarmTopic[0]", "!Ref", "AlarmTopicArn")
	assertScalar(t, none, "HasAlarmTopic[1]", "!!str", "")
}
