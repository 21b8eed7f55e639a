// Package service holds the business rules of the ElastiCache API:
// ElastiCache implements api.Service on top of a storage.Store. It validates
// input, enforces quotas, builds ARNs and translates storage errors into AWS
// faults. It imports api and storage, never net/http or a storage backend.
package service
