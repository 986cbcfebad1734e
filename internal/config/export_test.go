package config

// SameScopesForTest lets the external tests compare documents as
// configured (see sameScopes).
var SameScopesForTest = sameScopes
