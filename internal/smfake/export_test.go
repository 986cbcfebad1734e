package smfake

import "time"

// SetClock makes the quotas and the expiry of issued credentials read the
// time from now, so that a test moves time on by hand instead of sleeping.
func (s *Server) SetClock(now func() time.Time) {
	s.meter.mu.Lock()
	s.meter.now = now
	s.meter.mu.Unlock()
	s.mu.Lock()
	s.now = now
	s.mu.Unlock()
}
