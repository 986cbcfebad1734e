package config

// maxSessionName is STS's limit on a RoleSessionName.
const maxSessionName = 64

// unnamedFunction stands for the function's name where
// AWS_LAMBDA_FUNCTION_NAME is unset (a local run).
const unnamedFunction = "maskresolver"

// RoleSessionName is the RoleSessionName of a scope's sts:AssumeRole: the
// function's name, "@" and the scope's name, which the role's owner sees in
// CloudTrail and may match in its trust policy (sts:RoleSessionName).
//
//	RoleSessionName := [ Function "@" ] Scope   (2-64 characters of [A-Za-z0-9_+=,.@-])
//
// The scope's name is kept whole; the function's name (its
// AWS_LAMBDA_FUNCTION_NAME, "maskresolver" when unset) is cut to what fits
// in STS's 64 characters, and left out when not even one character of it
// fits. Neither name can hold "@", so the two cannot be confused. A
// character STS does not allow becomes "-" (a valid scope name and Lambda
// function name have none).
func RoleSessionName(functionName, scopeName string) string {
	scope := sessionSafe(scopeName)
	if len(scope) > maxSessionName {
		scope = scope[:maxSessionName]
	}
	fn := sessionSafe(functionName)
	if fn == "" {
		fn = unnamedFunction
	}
	room := maxSessionName - len(scope) - len("@")
	if room < 1 {
		return scope
	}
	if len(fn) > room {
		fn = fn[:room]
	}
	return fn + "@" + scope
}

// sessionSafe replaces each byte STS does not allow in a RoleSessionName,
// [\w+=,.@-], with "-", and "@" too, which separates the two names.
func sessionSafe(s string) string {
	b := []byte(s)
	for i, c := range b {
		switch {
		case isAlnum(c), c == '_', c == '+', c == '=', c == ',', c == '.', c == '-':
		default:
			b[i] = '-'
		}
	}
	return string(b)
}
