// Command hello is the package the tests of Build build.
package main

import "fmt"

func main() { fmt.Println("hello") }
