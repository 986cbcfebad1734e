package smfake

import "time"

// SetClock makes the quotas read the time from now, so that a test moves
// time on by hand instead of sleeping.
func (s *Server) SetClock(now func() time.Time) {
	s.meter.mu.Lock()
	defer s.meter.mu.Unlock()
	s.meter.now = now
}
