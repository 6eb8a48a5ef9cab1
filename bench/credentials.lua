-- wrk: POST {endpoint}/upload-credentials as the bench user.
wrk.method = "POST"
wrk.body = '{"path":"bench/load.png","size":1024,"contentType":"image/png"}'
wrk.headers["Content-Type"] = "application/json"
wrk.headers["Authorization"] = "Bearer bench-token"
