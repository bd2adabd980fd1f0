{
  "format": "tolerant cluster signature v1",
  "key_id": "golden",
  "epoch": 1,
  "dealer_key": "JsVpe+xk51S1xvsecSsS4rC/TmEh2PcsApl1d+wjxWc=",
  "files": [
    {
      "name": "cluster.json",
      "sha256": "FWpVdsDk7myDdEXzZUsksLSpRMzyNnFdNp+M5s75i0s="
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
  "signature": "ZWgkcpun7rCBLsE4pLeLIIplE6GItRw4+/3ZJSfwD5vn8JNYxBT8lLSjszB/5PjPN9dHhpAShndVv+PgHD05AA=="
}
