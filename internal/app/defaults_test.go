package app

import (
	"reflect"
	"testing"
	"time"
)

// The defaults an empty environment gets are the documented ones, and none
// is left at its zero value (a field added to config.Defaults but not
// gathered here would silently make, say, MAX_MASKS 0).
func TestDefaults(t *testing.T) {
	t.Parallel()
	got := defaults()
	v := reflect.ValueOf(got)
	for i := range v.NumField() {
		if v.Field(i).IsZero() {
			t.Errorf("defaults().%s is zero: gather it from the package that uses it", v.Type().Field(i).Name)
		}
	}
	want := reflect.ValueOf(struct {
		CacheTTL           time.Duration
		CacheMaxEntries    int
		CacheStaleIfError  time.Duration
		CacheNotFoundTTL   time.Duration
		RefreshMinInterval time.Duration
		MaxBodyBytes       int
		MaxMasks           int
		MaxDepth           int
		MaxStringBytes     int
		MaxSecrets         int
		MaxResponseBytes   int
		MetricsNamespace   string
	}{
		5 * time.Minute, 1000, 15 * time.Minute, 5 * time.Second, time.Second,
		1 << 20, 1000, 64, 256 << 10, 100, 6<<20 - 4<<10, "maskresolver",
	})
	if v.NumField() != want.NumField() {
		t.Fatalf("config.Defaults has %d fields, this test knows %d", v.NumField(), want.NumField())
	}
	for i := range v.NumField() {
		name := v.Type().Field(i).Name
		if w := want.FieldByName(name); !w.IsValid() || !reflect.DeepEqual(v.Field(i).Interface(), w.Interface()) {
			t.Errorf("defaults().%s = %v, want %v", name, v.Field(i), w)
		}
	}
}
