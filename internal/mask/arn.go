package mask

import (
	"strconv"
	"strings"
	"unicode/utf8"
)

// maxNameLen is the longest secret name Secrets Manager accepts.
const maxNameLen = 512

// suffixLen is the length of the random suffix Secrets Manager appends to a
// secret's name in its ARN ("-FsmeTs" without the hyphen).
const suffixLen = 6

// ARN is a Secrets Manager secret ARN:
// arn:<partition>:secretsmanager:<region>:<account>:secret:<name>.
type ARN struct {
	// Partition is "aws", "aws-cn", "aws-us-gov" or another "aws-*".
	Partition string
	// Region is the secret's region, such as "us-east-1"; it need not be
	// the function's own.
	Region string
	// Account is the 12-digit account that owns the secret.
	Account string
	// Name is the secret's name, with the random suffix if the ARN is
	// complete and without it if the ARN is partial.
	Name string
}

// String writes the ARN back in its canonical form.
func (a ARN) String() string {
	return "arn:" + a.Partition + ":secretsmanager:" + a.Region + ":" +
		a.Account + ":secret:" + a.Name
}

// HasSuffix reports whether Name ends in '-' and six ASCII letters or digits,
// the random suffix of a complete ARN. It is a heuristic, the same one
// Secrets Manager itself applies: a partial ARN whose name happens to end
// that way (say "my-secret-abcdef") looks complete, which is why AWS advises
// against such names.
func (a ARN) HasSuffix() bool {
	n := len(a.Name)
	return n >= suffixLen+2 && IsSuffix(a.Name[n-suffixLen-1:])
}

// IsSuffix reports whether s is a random suffix as Secrets Manager
// appends it to a secret's name in its ARN: '-' and six ASCII letters or
// digits ("-FsmeTs").
func IsSuffix(s string) bool {
	if len(s) != suffixLen+1 || s[0] != '-' {
		return false
	}
	for i := 1; i < len(s); i++ {
		if !isAlnum(s[i]) {
			return false
		}
	}
	return true
}

// ParseARN parses s, which must be a whole Secrets Manager secret ARN.
// Errors are *Error, with Offset relative to s, and wrap ErrInvalidMask.
func ParseARN(s string) (ARN, error) {
	return parseARN(s, 0)
}

// parseARN parses the ARN s found at offset base of the scanned string.
//
// ARN := "arn:" Partition ":secretsmanager:" Region ":" Account ":secret:" Name
//
// Fields are checked left to right and the first bad one is reported.
func parseARN(s string, base int) (ARN, error) {
	var f [arnFields]string
	var off [arnFields]int
	rest, pos := s, 0
	for i := range arnFields - 1 {
		c := strings.IndexByte(rest, ':')
		if c < 0 {
			return ARN{}, errorf(base, "ARN ", quote(s), " has ", strconv.Itoa(i+1),
				" colon-separated fields, want 7")
		}
		f[i], off[i] = rest[:c], base+pos
		rest, pos = rest[c+1:], pos+c+1
	}
	f[arnFields-1], off[arnFields-1] = rest, base+pos

	if f[0] != "arn" {
		return ARN{}, errorf(off[0], `ARN must start with "arn:", found `, quote(f[0]))
	}
	if !validPartition(f[1]) {
		return ARN{}, errorf(off[1], "partition ", quote(f[1]), ` is not "aws" or "aws-*"`)
	}
	if f[2] != "secretsmanager" {
		return ARN{}, errorf(off[2], `service must be "secretsmanager", found `, quote(f[2]))
	}
	if !validRegion(f[3]) {
		return ARN{}, errorf(off[3], "region ", quote(f[3]), ` is not a region such as "us-east-1"`)
	}
	if !validAccount(f[4]) {
		return ARN{}, errorf(off[4], "account ", quote(f[4]), " is not 12 digits")
	}
	if f[5] != "secret" {
		return ARN{}, errorf(off[5], `resource type must be "secret", found `, quote(f[5]))
	}
	if err := checkName(f[6], off[6]); err != nil {
		return ARN{}, err
	}
	return ARN{Partition: f[1], Region: f[3], Account: f[4], Name: f[6]}, nil
}

// maxPartitionLen bounds a partition name; the longest today,
// aws-iso-b and aws-eusc, are under ten.
const maxPartitionLen = 32

// validPartition checks
//
// Partition := "aws" | "aws-" [a-z0-9-]+   (at most maxPartitionLen bytes)
func validPartition(p string) bool {
	if p == "aws" {
		return true
	}
	if len(p) < len("aws-")+1 || len(p) > maxPartitionLen || p[:len("aws-")] != "aws-" {
		return false
	}
	for i := len("aws-"); i < len(p); i++ {
		if c := p[i]; !isLower(c) && !isDigit(c) && c != '-' {
			return false
		}
	}
	return true
}

// MaxRegionLen bounds a region name: the longest today, such as
// us-isob-east-1 or ap-southeast-5, have 14 characters. Each region a
// request names costs an SDK client, so a name cannot be arbitrarily long.
const MaxRegionLen = 25

// validRegion checks
//
// Region := [a-z]{2,4} ( "-" [a-z]+ ){1,3} "-" [0-9]{1,2}   (at most MaxRegionLen bytes)
//
// which covers us-east-1, us-gov-west-1, cn-north-1, ap-southeast-5 and the
// European Sovereign Cloud's eusc-de-east-1.
func validRegion(r string) bool {
	if len(r) > MaxRegionLen {
		return false
	}
	i := 0
	for i < len(r) && i < 4 && isLower(r[i]) {
		i++
	}
	if i < 2 {
		return false
	}
	words := 0
	for {
		if i >= len(r) || r[i] != '-' {
			return false
		}
		i++
		j := i
		for j < len(r) && isLower(r[j]) {
			j++
		}
		if j == i {
			break // not a word: this must be the number
		}
		words++
		i = j
	}
	if words == 0 || words > 3 {
		return false
	}
	j := i
	for j < len(r) && isDigit(r[j]) {
		j++
	}
	return j > i && j-i <= 2 && j == len(r)
}

// validAccount checks
//
// Account := [0-9]{12}
func validAccount(a string) bool {
	if len(a) != 12 {
		return false
	}
	for i := 0; i < len(a); i++ {
		if !isDigit(a[i]) {
			return false
		}
	}
	return true
}

// checkName checks
//
// Name := [A-Za-z0-9/_+=.@-]{1,512}
//
// The random suffix is part of Name and may be absent (a partial ARN).
func checkName(n string, base int) error {
	if n == "" {
		return errorf(base, "missing secret name")
	}
	if len(n) > maxNameLen {
		return errorf(base, "secret name is ", strconv.Itoa(len(n)),
			" bytes, longer than ", strconv.Itoa(maxNameLen))
	}
	for i := 0; i < len(n); i++ {
		if !isNameByte(n[i]) {
			r, _ := utf8.DecodeRuneInString(n[i:])
			return errorf(base+i, "secret name ", quote(n), " has invalid character ",
				strconv.QuoteRune(r), " (allowed: A-Z a-z 0-9 / _ + = . @ -)")
		}
	}
	return nil
}

func isLower(c byte) bool { return 'a' <= c && c <= 'z' }
func isDigit(c byte) bool { return '0' <= c && c <= '9' }
func isAlnum(c byte) bool { return isLower(c) || isDigit(c) || 'A' <= c && c <= 'Z' }

func isNameByte(c byte) bool {
	switch c {
	case '/', '_', '+', '=', '.', '@', '-':
		return true
	}
	return isAlnum(c)
}
