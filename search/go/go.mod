module gochan-search-go

go 1.19
