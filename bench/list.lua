-- wrk: POST {endpoint}/list as the bench user, the body from WXCS_LIST_BODY.
wrk.method = "POST"
wrk.body = os.getenv("WXCS_LIST_BODY")
wrk.headers["Content-Type"] = "application/json"
wrk.headers["Authorization"] = "Bearer bench-token"
