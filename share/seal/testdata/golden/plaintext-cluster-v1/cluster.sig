{
  "format": "tolerant cluster signature v1",
  "key_id": "golden",
  "epoch": 1,
  "dealer_key": "JsVpe+xk51S1xvsecSsS4rC/TmEh2PcsApl1d+wjxWc=",
  "files": [
    {
      "name": "cluster.json",
      "sha256": "6XP4Y7yisz0KDsC6d1fHtwkJ+h699z7dZgOMLgB4AHc="
    },
    {
      "name": "public.pem",
      "sha256": "WgwyCli7VZwtHXfmMjd2rIzflHH+FkDGIrM8ndfL2ho="
    },
    {
      "name": "plan.json",
      "sha256": "TGkFm70H8y89XSnKu4CuJkhVVBB0V11UhwgpDdvQP4o="
    },
    {
      "name": "roster.json",
      "sha256": "Lmek3kjVwVaF/nDoMWdac9rHOCQKNhy5lWcrklElnKI="
    }
  ],
  "signature": "EmfiFIVXfm/rz1PtTaGo2UdSgoYP/eqd6hcNXOcW9l/rMCQ47pnGILMOe2Y8QItIjw0p+Tl7nBVQxZQLXX74Cw=="
}
