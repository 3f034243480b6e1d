"""A clean program: a small Flask-like WSGI application (routes registered by a decorator,
a request object, JSON responses, error handling) served by wsgiref on the loopback
interface, with a client sending requests through http.client."""
import http.client
import json
import threading
from urllib.parse import parse_qs
from wsgiref.simple_server import WSGIRequestHandler, make_server
from clean_common import rounds


class Request:
    def __init__(self, environ):
        self.method = environ["REQUEST_METHOD"]
        self.path = environ.get("PATH_INFO", "/")
        self.args = {k: v[0] for k, v in parse_qs(environ.get("QUERY_STRING", "")).items()}
        length = int(environ.get("CONTENT_LENGTH") or 0)
        self.body = environ["wsgi.input"].read(length) if length else b""

    def json(self):
        return json.loads(self.body or b"null")


class App:
    def __init__(self):
        self.routes = {}

    def route(self, path, methods=("GET",)):
        def register(fn):
            for m in methods:
                self.routes[(m, path)] = fn
            return fn
        return register

    def __call__(self, environ, start_response):
        req = Request(environ)
        fn = self.routes.get((req.method, req.path))
        try:
            if fn is None:
                status, body = "404 Not Found", {"error": "not found"}
            else:
                status, body = "200 OK", fn(req)
        except Exception as e:
            status, body = "500 Internal Server Error", {"error": str(e)}
        data = json.dumps(body).encode()
        start_response(status, [("Content-Type", "application/json"),
                                ("Content-Length", str(len(data)))])
        return [data]


app = App()
store = {}


@app.route("/hello")
def hello(req):
    return {"hello": req.args.get("name", "world")}


@app.route("/items", methods=("POST",))
def put_item(req):
    item = req.json()
    store[item["key"]] = item["value"]
    return {"stored": item["key"]}


@app.route("/fail")
def fail(req):
    raise RuntimeError("boom")


class QuietHandler(WSGIRequestHandler):
    def log_message(self, *args):
        pass


server = make_server("127.0.0.1", 0, app, handler_class=QuietHandler)
port = server.server_address[1]
serving = threading.Thread(target=server.serve_forever, kwargs={"poll_interval": 0.01})
serving.start()


def work(r):
    conn = http.client.HTTPConnection("127.0.0.1", port)
    for i in range(60):
        for method, path, body in (("GET", f"/hello?name=n{i}", None),
                                   ("POST", "/items", json.dumps({"key": i % 10, "value": i})),
                                   ("GET", "/fail", None), ("GET", "/missing", None)):
            conn = http.client.HTTPConnection("127.0.0.1", port)
            conn.request(method, path, body=body)
            resp = conn.getresponse()
            resp.read()
            conn.close()


try:
    rounds(work)
finally:
    server.shutdown()
    serving.join()
    server.server_close()
