package mask

import "testing"

func TestValidRegion(t *testing.T) {
	t.Parallel()
	for r, want := range map[string]bool{
		"us-east-1": true, "us-gov-west-1": true, "cn-north-1": true, "ap-southeast-5": true,
		"il-central-1": true, "eusc-de-east-1": true, "us-isob-east-1": true,
		"u-east-1": false, "useast-1": false, "us-east": false, "us-east-": false, "us--1": false,
		"US-east-1": false, "abcde-east-1": false, "us-east-1a": false, "": false,
	} {
		if got := validRegion(r); got != want {
			t.Errorf("validRegion(%q) = %v, want %v", r, got, want)
		}
	}
}
