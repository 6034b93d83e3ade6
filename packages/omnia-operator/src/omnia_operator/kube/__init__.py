"""The Kubernetes adapter: resource kinds, our error tree and the only client that talks to the API server."""
