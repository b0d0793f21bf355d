module github.com/ninefold/ninefold/bindings/go

go 1.24
