package mask_test

import (
	"fmt"

	"github.com/maskresolver/maskresolver/internal/mask"
)

func ExampleFind() {
	s := "Bearer {{workato:sm:prod.jira.secret.key:arn:aws:secretsmanager:us-east-1:137149879143:secret:prod-jira-credentials-FsmeTs}}" +
		" and {{workato:sm:k:arn:aws:secretsmanager:us-east-1:13714987914:secret:x}}"
	for _, m := range mask.Find(s) {
		if m.Err != nil {
			fmt.Printf("[%d,%d) %v\n", m.Start, m.End, m.Err)
			continue
		}
		fmt.Printf("[%d,%d) key %s in %s (%s)\n", m.Start, m.End, m.Mask.Key, m.Mask.ARN.Name, m.Mask.ARN.Region)
	}
	// Output:
	// [7,124) key prod.jira.secret.key in prod-jira-credentials-FsmeTs (us-east-1)
	// [129,199) invalid mask at offset 177: account "13714987914" is not 12 digits
}

func ExampleParse() {
	m, err := mask.Parse("{{workato:sm:db.password:arn:aws-us-gov:secretsmanager:us-gov-west-1:123456789012:secret:prod/db}}")
	if err != nil {
		fmt.Println(err)
		return
	}
	fmt.Println(m.Key)
	fmt.Println(m.ARN)
	fmt.Println(m.ARN.HasSuffix())

	_, err = mask.Parse("{{workato:sm:db.password:arn:azure:secretsmanager:us-east-1:123456789012:secret:x}}")
	fmt.Println(err)
	// Output:
	// db.password
	// arn:aws-us-gov:secretsmanager:us-gov-west-1:123456789012:secret:prod/db
	// false
	// invalid mask at offset 29: partition "azure" is not "aws" or "aws-*"
}
