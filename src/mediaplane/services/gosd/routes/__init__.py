"""gosd's routes, all under `/gosd` of the instance URL (the spec's BASE_URL is `http://localhost:8000/gosd`)."""

PREFIX = "/gosd"
