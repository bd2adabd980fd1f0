module github.com/tolerantca/tolerant

go 1.26.0

require (
	filippo.io/bigmod v0.1.0
	github.com/google/go-cmp v0.7.0
	golang.org/x/crypto v0.59.0
	pgregory.net/rapid v1.3.0
)

require (
	github.com/stretchr/testify v1.12.1 // indirect
	go.uber.org/goleak v1.3.0 // indirect
	golang.org/x/sys v0.50.0 // indirect
)
