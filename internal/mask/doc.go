// Package mask is the grammar of secret masks: it finds and parses
// {{workato:sm:<key name>:<secret ARN>}} in a string and says exactly what is
// wrong, and where, with text that starts like a mask but is not one.
//
// It is pure: no I/O, no AWS calls. The resolver asks it what the masks are;
// fetching their values is someone else's job. Parsed keys and ARN fields are
// substrings of the input, and scanning a string that holds no mask costs one
// strings.Index and no allocation.
package mask
