"""A clean program: common installed packages (C and Rust extensions among them) used in
rounds. pydantic models validated and dumped, orjson, a jinja2 template, a Flask app through
its test client, requests' request preparation, yaml, jsonschema, cryptography's hashes
and Fernet, a trio nursery."""
import flask
import jinja2
import jsonschema
import orjson
import pydantic
import requests
import trio
import yaml
from cryptography.fernet import Fernet
from cryptography.hazmat.primitives import hashes

from clean_common import rounds


class Item(pydantic.BaseModel):
    name: str
    price: float
    tags: list = []


app = flask.Flask(__name__)


@app.route("/item/<int:n>")
def item(n):
    return flask.jsonify({"n": n, "name": "x%d" % n})


client = app.test_client()
template = jinja2.Environment(autoescape=True).from_string(
    "<ul>{% for x in items %}<li>{{ x.name }} {{ x.price }}</li>{% endfor %}</ul>")
schema = {"type": "object", "properties": {"name": {"type": "string"}, "price": {"type": "number"}}}
fernet = Fernet(Fernet.generate_key())


async def nursery(n):
    async with trio.open_nursery() as children:
        for _ in range(n):
            children.start_soon(trio.sleep, 0)


def work(r):
    for i in range(30):
        it = Item(name="n%d" % i, price=i * 1.5, tags=["a", "b"])
        d = it.model_dump()
        s = orjson.dumps(d)
        orjson.loads(s)
        template.render(items=[it, it])
        client.get("/item/%d" % i)
        requests.Request("GET", "http://example.invalid/x", params={"i": i}).prepare()
        yaml.safe_load(yaml.safe_dump(d))
        jsonschema.validate(d, schema)
        h = hashes.Hash(hashes.SHA256())
        h.update(s)
        h.finalize()
        fernet.decrypt(fernet.encrypt(s))
    trio.run(nursery, 5)


rounds(work)
