package smfake

import (
	"encoding/json"
	"net/http"
	"strconv"
	"time"
)

const (
	currentStage = "AWSCURRENT"
	// maxBatchIDs is the most SecretIdList entries AWS accepts in one
	// BatchGetSecretValue.
	maxBatchIDs = 20
)

// secretValue is the GetSecretValue output and a BatchGetSecretValue
// SecretValues entry.
type secretValue struct {
	ARN           string       `json:"ARN"`
	Name          string       `json:"Name"`
	VersionID     string       `json:"VersionId"`
	SecretString  *string      `json:"SecretString,omitempty"`
	SecretBinary  []byte       `json:"SecretBinary,omitempty"` // base64 on the wire
	VersionStages []string     `json:"VersionStages"`
	CreatedDate   epochSeconds `json:"CreatedDate"`
}

// apiError is a BatchGetSecretValue Errors entry, and how the single-secret
// operations carry an error to the point where it is written.
type apiError struct {
	SecretID  string `json:"SecretId"`
	ErrorCode string `json:"ErrorCode"`
	Message   string `json:"Message"`
}

// decode parses a request body, answering SerializationException (as AWS
// does) when it is not a JSON object.
func (s *Server) decode(w http.ResponseWriter, body []byte, v any) bool {
	if err := json.Unmarshal(body, v); err != nil {
		s.writeError(w, "SerializationException", "smfake: "+err.Error())
		return false
	}
	return true
}

// countRead notes an attempt by c to read id's value and returns the key
// it resolves to; ok is false when id cannot name a secret.
func (s *Server) countRead(id, region string, c caller) (secretKey, bool) {
	s.mu.Lock()
	defer s.mu.Unlock()
	k, _, ok := s.lookupLocked(id, region)
	if ok {
		s.reads[k]++
		s.readsBy[principalRead{c.principal, k}]++
	}
	return k, ok
}

// readValue answers one secret read by id for c; stage and versionID
// select the version as GetSecretValue's VersionStage and VersionId do. A
// secret c may not read is AccessDeniedException, deleted or not.
func (s *Server) readValue(id, region string, c caller, stage, versionID string) (secretValue, *apiError) {
	s.mu.Lock()
	defer s.mu.Unlock()
	k, sec, _ := s.lookupLocked(id, region)
	fail := func(code, msg string) (secretValue, *apiError) {
		return secretValue{}, &apiError{SecretID: id, ErrorCode: code, Message: msg}
	}
	switch {
	case sec == nil:
		return fail("ResourceNotFoundException", msgNotFound)
	case !sec.readableBy(c.principal):
		return fail("AccessDeniedException", deniedMessage(c, opGetSecretValue, id))
	case !sec.deleted.IsZero():
		return fail("InvalidRequestException", msgDeleted)
	case stage != "" && stage != currentStage:
		return fail("ResourceNotFoundException", "Secrets Manager can't find the specified secret value for staging label: "+stage)
	case versionID != "" && versionID != sec.versionID:
		return fail("ResourceNotFoundException", "Secrets Manager can't find the specified secret value for VersionId: "+versionID)
	case !sec.hasValue():
		return fail("ResourceNotFoundException", "Secrets Manager can't find the specified secret value for staging label: "+currentStage)
	}
	return secretValue{
		ARN:           sec.arn(k),
		Name:          k.name,
		VersionID:     sec.versionID,
		SecretString:  sec.str,
		SecretBinary:  sec.bin,
		VersionStages: []string{currentStage},
		CreatedDate:   epochSeconds(sec.changed),
	}, nil
}

// getSecretValue answers GetSecretValue: whole-call faults, then faults on
// the secret, then the value.
func (s *Server) getSecretValue(w http.ResponseWriter, r *http.Request, region string, c caller, body []byte) {
	var in struct {
		SecretID     string `json:"SecretId"`
		VersionID    string `json:"VersionId"`
		VersionStage string `json:"VersionStage"`
	}
	if !s.decode(w, body, &in) {
		return
	}
	if in.SecretID == "" {
		s.writeError(w, "InvalidParameterException", "SecretId is required.")
		return
	}
	k, named := s.countRead(in.SecretID, region, c)
	if f, ok := s.takeFault(opGetSecretValue, region, nil); ok && s.apply(w, r, f) {
		return
	}
	if named {
		if f, ok := s.takeFault(opGetSecretValue, region, &k); ok && s.apply(w, r, f) {
			return
		}
	}
	v, apiErr := s.readValue(in.SecretID, region, c, in.VersionStage, in.VersionID)
	if apiErr != nil {
		s.writeError(w, apiErr.ErrorCode, apiErr.Message)
		return
	}
	s.writeJSON(w, v)
}

// batchGetSecretValue answers BatchGetSecretValue for a SecretIdList. A
// missing, deleted, faulted or forbidden secret becomes an Errors entry;
// only whole-call faults and transport-breaking per-secret faults fail the
// call.
func (s *Server) batchGetSecretValue(w http.ResponseWriter, r *http.Request, region string, c caller, body []byte) {
	var in struct {
		SecretIDList []string          `json:"SecretIdList"`
		Filters      []json.RawMessage `json:"Filters"`
	}
	if !s.decode(w, body, &in) {
		return
	}
	switch {
	case len(in.Filters) > 0:
		s.writeError(w, "InvalidParameterException", "smfake: Filters are not supported by the double; use SecretIdList.")
		return
	case len(in.SecretIDList) == 0:
		s.writeError(w, "InvalidParameterException", "Either SecretIdList or Filters must be specified.")
		return
	case len(in.SecretIDList) > maxBatchIDs:
		s.writeError(w, "InvalidParameterException",
			"SecretIdList must contain at most "+strconv.Itoa(maxBatchIDs)+" secret IDs.")
		return
	}

	keys := make([]secretKey, len(in.SecretIDList))
	named := make([]bool, len(in.SecretIDList))
	for i, id := range in.SecretIDList {
		keys[i], named[i] = s.countRead(id, region, c)
	}
	if f, ok := s.takeFault(opBatchGetSecretValue, region, nil); ok && s.apply(w, r, f) {
		return
	}

	faults := make([]*Fault, len(in.SecretIDList))
	var latency time.Duration
	var breaker *Fault
	for i := range in.SecretIDList {
		if !named[i] {
			continue
		}
		f, ok := s.takeFault(opBatchGetSecretValue, region, &keys[i])
		if !ok {
			continue
		}
		faults[i] = &f
		latency = max(latency, f.Latency)
		if breaker == nil && f.breaksTransport() {
			breaker = &f
		}
	}
	if !sleep(r.Context(), latency) {
		return
	}
	if breaker != nil {
		b := *breaker
		b.Latency = 0
		s.apply(w, r, b)
		return
	}

	out := struct {
		SecretValues []secretValue `json:"SecretValues"`
		Errors       []apiError    `json:"Errors"`
	}{SecretValues: []secretValue{}, Errors: []apiError{}}
	for i, id := range in.SecretIDList {
		if f := faults[i]; f != nil && f.Code != "" {
			out.Errors = append(out.Errors, apiError{SecretID: id, ErrorCode: f.Code, Message: messageIn(defaultMessages, f.Code, f.Message)})
			continue
		}
		v, apiErr := s.readValue(id, region, c, "", "")
		if apiErr != nil {
			out.Errors = append(out.Errors, *apiErr)
			continue
		}
		out.SecretValues = append(out.SecretValues, v)
	}
	s.writeJSON(w, out)
}

// describeSecret answers DescribeSecret, which works on secrets marked for
// deletion and reports their DeletedDate, for principals that may read the
// secret.
func (s *Server) describeSecret(w http.ResponseWriter, r *http.Request, region string, c caller, body []byte) {
	var in struct {
		SecretID string `json:"SecretId"`
	}
	if !s.decode(w, body, &in) {
		return
	}
	if in.SecretID == "" {
		s.writeError(w, "InvalidParameterException", "SecretId is required.")
		return
	}
	if f, ok := s.takeFault(opDescribeSecret, region, nil); ok && s.apply(w, r, f) {
		return
	}
	s.mu.Lock()
	k, _, named := s.lookupLocked(in.SecretID, region)
	s.mu.Unlock()
	if named {
		if f, ok := s.takeFault(opDescribeSecret, region, &k); ok && s.apply(w, r, f) {
			return
		}
	}

	type output struct {
		ARN                string              `json:"ARN"`
		Name               string              `json:"Name"`
		CreatedDate        epochSeconds        `json:"CreatedDate"`
		LastChangedDate    epochSeconds        `json:"LastChangedDate"`
		DeletedDate        *epochSeconds       `json:"DeletedDate,omitempty"`
		VersionIdsToStages map[string][]string `json:"VersionIdsToStages,omitempty"`
	}
	s.mu.Lock()
	k, sec, _ := s.lookupLocked(in.SecretID, region)
	if sec == nil {
		s.mu.Unlock()
		s.writeError(w, "ResourceNotFoundException", msgNotFound)
		return
	}
	if !sec.readableBy(c.principal) {
		s.mu.Unlock()
		s.writeError(w, "AccessDeniedException", deniedMessage(c, opDescribeSecret, in.SecretID))
		return
	}
	out := output{
		ARN:             sec.arn(k),
		Name:            k.name,
		CreatedDate:     epochSeconds(sec.created),
		LastChangedDate: epochSeconds(sec.changed),
	}
	if !sec.deleted.IsZero() {
		d := epochSeconds(sec.deleted)
		out.DeletedDate = &d
	}
	if sec.versionID != "" {
		out.VersionIdsToStages = map[string][]string{sec.versionID: {currentStage}}
	}
	s.mu.Unlock()
	s.writeJSON(w, out)
}
