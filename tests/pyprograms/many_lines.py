"""Objects allocated on many lines, in many kinds of code: the lines a report gives for
them must be the interpreter's own. Each Tag records the line its caller stood on when it
was made (the frame's f_lineno, from PyCode_Addr2Line); the program prints them. The shapes
are the ones line tables encode differently: straight code, loops (backward jumps), branches,
handlers, with blocks, calls spanning lines, comprehensions, lambdas, nested functions,
class bodies, generators, a gap of hundreds of lines, and a body long enough for multi-byte
offsets. What the sites keep is kept through put(), so that the only Tag-sized blocks a site
function's lines keep are Tags (the interpreter's free lists keep a few blocks of other
sizes from any line)."""
import json
import sys

keep = []
lines = set()


class Tag:
    __slots__ = ("line",)

    def __init__(self):
        self.line = sys._getframe(1).f_lineno
        lines.add(self.line)


def put(x):
    keep.append(x)


def put_all(xs):
    keep.extend(xs)


class Oops(Exception):
    pass


class Ctx:
    def __init__(self, tag):
        put(tag)

    def __enter__(self):
        return self

    def __exit__(self, *exc):
        return False


def straight():
    put(Tag())
    x = Tag()
    put(x)
    put(Tag()); put(Tag())


def loops(n):
    for i in range(n):
        put(Tag())
        if i % 2:
            continue
        put(Tag())
    j = 0
    while j < n:
        j += 1
        put(Tag())
    else:
        put(Tag())


def branches(v):
    if v == 0:
        put(Tag())
    elif v == 1:
        put(Tag())
    else:
        put(Tag())
    put(Tag() if v else Tag())


def handlers():
    try:
        put(Tag())
        raise Oops(Tag())
    except Oops as e:
        put(e.args[0])
        put(Tag())
    finally:
        put(Tag())
    with Ctx(Tag()):
        put(Tag())


def spanning():
    put(
        Tag()
    )
    put_all([Tag(),
             Tag(),
             Tag()])
    put({"a": Tag(),
         "b": [Tag(), Tag()]})


def comprehensions():
    put_all([Tag() for _ in range(3)])
    put_all(Tag() for _ in range(2))
    put((lambda: Tag())())
    put_all({i: Tag() for i in range(2)}.values())


def nested():
    def inner():
        put(Tag())
    inner()
    put(Tag())


class Holder:
    first = Tag()
    put(first)


def generated():
    for _ in range(3):
        put(Tag())
        yield


def gap():
    put(Tag())
    # filler line 0: more lines than one line-table entry spans
    # filler line 1: more lines than one line-table entry spans
    # filler line 2: more lines than one line-table entry spans
    # filler line 3: more lines than one line-table entry spans
    # filler line 4: more lines than one line-table entry spans
    # filler line 5: more lines than one line-table entry spans
    # filler line 6: more lines than one line-table entry spans
    # filler line 7: more lines than one line-table entry spans
    # filler line 8: more lines than one line-table entry spans
    # filler line 9: more lines than one line-table entry spans
    # filler line 10: more lines than one line-table entry spans
    # filler line 11: more lines than one line-table entry spans
    # filler line 12: more lines than one line-table entry spans
    # filler line 13: more lines than one line-table entry spans
    # filler line 14: more lines than one line-table entry spans
    # filler line 15: more lines than one line-table entry spans
    # filler line 16: more lines than one line-table entry spans
    # filler line 17: more lines than one line-table entry spans
    # filler line 18: more lines than one line-table entry spans
    # filler line 19: more lines than one line-table entry spans
    # filler line 20: more lines than one line-table entry spans
    # filler line 21: more lines than one line-table entry spans
    # filler line 22: more lines than one line-table entry spans
    # filler line 23: more lines than one line-table entry spans
    # filler line 24: more lines than one line-table entry spans
    # filler line 25: more lines than one line-table entry spans
    # filler line 26: more lines than one line-table entry spans
    # filler line 27: more lines than one line-table entry spans
    # filler line 28: more lines than one line-table entry spans
    # filler line 29: more lines than one line-table entry spans
    # filler line 30: more lines than one line-table entry spans
    # filler line 31: more lines than one line-table entry spans
    # filler line 32: more lines than one line-table entry spans
    # filler line 33: more lines than one line-table entry spans
    # filler line 34: more lines than one line-table entry spans
    # filler line 35: more lines than one line-table entry spans
    # filler line 36: more lines than one line-table entry spans
    # filler line 37: more lines than one line-table entry spans
    # filler line 38: more lines than one line-table entry spans
    # filler line 39: more lines than one line-table entry spans
    # filler line 40: more lines than one line-table entry spans
    # filler line 41: more lines than one line-table entry spans
    # filler line 42: more lines than one line-table entry spans
    # filler line 43: more lines than one line-table entry spans
    # filler line 44: more lines than one line-table entry spans
    # filler line 45: more lines than one line-table entry spans
    # filler line 46: more lines than one line-table entry spans
    # filler line 47: more lines than one line-table entry spans
    # filler line 48: more lines than one line-table entry spans
    # filler line 49: more lines than one line-table entry spans
    # filler line 50: more lines than one line-table entry spans
    # filler line 51: more lines than one line-table entry spans
    # filler line 52: more lines than one line-table entry spans
    # filler line 53: more lines than one line-table entry spans
    # filler line 54: more lines than one line-table entry spans
    # filler line 55: more lines than one line-table entry spans
    # filler line 56: more lines than one line-table entry spans
    # filler line 57: more lines than one line-table entry spans
    # filler line 58: more lines than one line-table entry spans
    # filler line 59: more lines than one line-table entry spans
    # filler line 60: more lines than one line-table entry spans
    # filler line 61: more lines than one line-table entry spans
    # filler line 62: more lines than one line-table entry spans
    # filler line 63: more lines than one line-table entry spans
    # filler line 64: more lines than one line-table entry spans
    # filler line 65: more lines than one line-table entry spans
    # filler line 66: more lines than one line-table entry spans
    # filler line 67: more lines than one line-table entry spans
    # filler line 68: more lines than one line-table entry spans
    # filler line 69: more lines than one line-table entry spans
    # filler line 70: more lines than one line-table entry spans
    # filler line 71: more lines than one line-table entry spans
    # filler line 72: more lines than one line-table entry spans
    # filler line 73: more lines than one line-table entry spans
    # filler line 74: more lines than one line-table entry spans
    # filler line 75: more lines than one line-table entry spans
    # filler line 76: more lines than one line-table entry spans
    # filler line 77: more lines than one line-table entry spans
    # filler line 78: more lines than one line-table entry spans
    # filler line 79: more lines than one line-table entry spans
    # filler line 80: more lines than one line-table entry spans
    # filler line 81: more lines than one line-table entry spans
    # filler line 82: more lines than one line-table entry spans
    # filler line 83: more lines than one line-table entry spans
    # filler line 84: more lines than one line-table entry spans
    # filler line 85: more lines than one line-table entry spans
    # filler line 86: more lines than one line-table entry spans
    # filler line 87: more lines than one line-table entry spans
    # filler line 88: more lines than one line-table entry spans
    # filler line 89: more lines than one line-table entry spans
    # filler line 90: more lines than one line-table entry spans
    # filler line 91: more lines than one line-table entry spans
    # filler line 92: more lines than one line-table entry spans
    # filler line 93: more lines than one line-table entry spans
    # filler line 94: more lines than one line-table entry spans
    # filler line 95: more lines than one line-table entry spans
    # filler line 96: more lines than one line-table entry spans
    # filler line 97: more lines than one line-table entry spans
    # filler line 98: more lines than one line-table entry spans
    # filler line 99: more lines than one line-table entry spans
    # filler line 100: more lines than one line-table entry spans
    # filler line 101: more lines than one line-table entry spans
    # filler line 102: more lines than one line-table entry spans
    # filler line 103: more lines than one line-table entry spans
    # filler line 104: more lines than one line-table entry spans
    # filler line 105: more lines than one line-table entry spans
    # filler line 106: more lines than one line-table entry spans
    # filler line 107: more lines than one line-table entry spans
    # filler line 108: more lines than one line-table entry spans
    # filler line 109: more lines than one line-table entry spans
    # filler line 110: more lines than one line-table entry spans
    # filler line 111: more lines than one line-table entry spans
    # filler line 112: more lines than one line-table entry spans
    # filler line 113: more lines than one line-table entry spans
    # filler line 114: more lines than one line-table entry spans
    # filler line 115: more lines than one line-table entry spans
    # filler line 116: more lines than one line-table entry spans
    # filler line 117: more lines than one line-table entry spans
    # filler line 118: more lines than one line-table entry spans
    # filler line 119: more lines than one line-table entry spans
    # filler line 120: more lines than one line-table entry spans
    # filler line 121: more lines than one line-table entry spans
    # filler line 122: more lines than one line-table entry spans
    # filler line 123: more lines than one line-table entry spans
    # filler line 124: more lines than one line-table entry spans
    # filler line 125: more lines than one line-table entry spans
    # filler line 126: more lines than one line-table entry spans
    # filler line 127: more lines than one line-table entry spans
    # filler line 128: more lines than one line-table entry spans
    # filler line 129: more lines than one line-table entry spans
    # filler line 130: more lines than one line-table entry spans
    # filler line 131: more lines than one line-table entry spans
    # filler line 132: more lines than one line-table entry spans
    # filler line 133: more lines than one line-table entry spans
    # filler line 134: more lines than one line-table entry spans
    # filler line 135: more lines than one line-table entry spans
    # filler line 136: more lines than one line-table entry spans
    # filler line 137: more lines than one line-table entry spans
    # filler line 138: more lines than one line-table entry spans
    # filler line 139: more lines than one line-table entry spans
    # filler line 140: more lines than one line-table entry spans
    # filler line 141: more lines than one line-table entry spans
    # filler line 142: more lines than one line-table entry spans
    # filler line 143: more lines than one line-table entry spans
    # filler line 144: more lines than one line-table entry spans
    # filler line 145: more lines than one line-table entry spans
    # filler line 146: more lines than one line-table entry spans
    # filler line 147: more lines than one line-table entry spans
    # filler line 148: more lines than one line-table entry spans
    # filler line 149: more lines than one line-table entry spans
    # filler line 150: more lines than one line-table entry spans
    # filler line 151: more lines than one line-table entry spans
    # filler line 152: more lines than one line-table entry spans
    # filler line 153: more lines than one line-table entry spans
    # filler line 154: more lines than one line-table entry spans
    # filler line 155: more lines than one line-table entry spans
    # filler line 156: more lines than one line-table entry spans
    # filler line 157: more lines than one line-table entry spans
    # filler line 158: more lines than one line-table entry spans
    # filler line 159: more lines than one line-table entry spans
    # filler line 160: more lines than one line-table entry spans
    # filler line 161: more lines than one line-table entry spans
    # filler line 162: more lines than one line-table entry spans
    # filler line 163: more lines than one line-table entry spans
    # filler line 164: more lines than one line-table entry spans
    # filler line 165: more lines than one line-table entry spans
    # filler line 166: more lines than one line-table entry spans
    # filler line 167: more lines than one line-table entry spans
    # filler line 168: more lines than one line-table entry spans
    # filler line 169: more lines than one line-table entry spans
    # filler line 170: more lines than one line-table entry spans
    # filler line 171: more lines than one line-table entry spans
    # filler line 172: more lines than one line-table entry spans
    # filler line 173: more lines than one line-table entry spans
    # filler line 174: more lines than one line-table entry spans
    # filler line 175: more lines than one line-table entry spans
    # filler line 176: more lines than one line-table entry spans
    # filler line 177: more lines than one line-table entry spans
    # filler line 178: more lines than one line-table entry spans
    # filler line 179: more lines than one line-table entry spans
    # filler line 180: more lines than one line-table entry spans
    # filler line 181: more lines than one line-table entry spans
    # filler line 182: more lines than one line-table entry spans
    # filler line 183: more lines than one line-table entry spans
    # filler line 184: more lines than one line-table entry spans
    # filler line 185: more lines than one line-table entry spans
    # filler line 186: more lines than one line-table entry spans
    # filler line 187: more lines than one line-table entry spans
    # filler line 188: more lines than one line-table entry spans
    # filler line 189: more lines than one line-table entry spans
    # filler line 190: more lines than one line-table entry spans
    # filler line 191: more lines than one line-table entry spans
    # filler line 192: more lines than one line-table entry spans
    # filler line 193: more lines than one line-table entry spans
    # filler line 194: more lines than one line-table entry spans
    # filler line 195: more lines than one line-table entry spans
    # filler line 196: more lines than one line-table entry spans
    # filler line 197: more lines than one line-table entry spans
    # filler line 198: more lines than one line-table entry spans
    # filler line 199: more lines than one line-table entry spans
    # filler line 200: more lines than one line-table entry spans
    # filler line 201: more lines than one line-table entry spans
    # filler line 202: more lines than one line-table entry spans
    # filler line 203: more lines than one line-table entry spans
    # filler line 204: more lines than one line-table entry spans
    # filler line 205: more lines than one line-table entry spans
    # filler line 206: more lines than one line-table entry spans
    # filler line 207: more lines than one line-table entry spans
    # filler line 208: more lines than one line-table entry spans
    # filler line 209: more lines than one line-table entry spans
    # filler line 210: more lines than one line-table entry spans
    # filler line 211: more lines than one line-table entry spans
    # filler line 212: more lines than one line-table entry spans
    # filler line 213: more lines than one line-table entry spans
    # filler line 214: more lines than one line-table entry spans
    # filler line 215: more lines than one line-table entry spans
    # filler line 216: more lines than one line-table entry spans
    # filler line 217: more lines than one line-table entry spans
    # filler line 218: more lines than one line-table entry spans
    # filler line 219: more lines than one line-table entry spans
    # filler line 220: more lines than one line-table entry spans
    # filler line 221: more lines than one line-table entry spans
    # filler line 222: more lines than one line-table entry spans
    # filler line 223: more lines than one line-table entry spans
    # filler line 224: more lines than one line-table entry spans
    # filler line 225: more lines than one line-table entry spans
    # filler line 226: more lines than one line-table entry spans
    # filler line 227: more lines than one line-table entry spans
    # filler line 228: more lines than one line-table entry spans
    # filler line 229: more lines than one line-table entry spans
    # filler line 230: more lines than one line-table entry spans
    # filler line 231: more lines than one line-table entry spans
    # filler line 232: more lines than one line-table entry spans
    # filler line 233: more lines than one line-table entry spans
    # filler line 234: more lines than one line-table entry spans
    # filler line 235: more lines than one line-table entry spans
    # filler line 236: more lines than one line-table entry spans
    # filler line 237: more lines than one line-table entry spans
    # filler line 238: more lines than one line-table entry spans
    # filler line 239: more lines than one line-table entry spans
    # filler line 240: more lines than one line-table entry spans
    # filler line 241: more lines than one line-table entry spans
    # filler line 242: more lines than one line-table entry spans
    # filler line 243: more lines than one line-table entry spans
    # filler line 244: more lines than one line-table entry spans
    # filler line 245: more lines than one line-table entry spans
    # filler line 246: more lines than one line-table entry spans
    # filler line 247: more lines than one line-table entry spans
    # filler line 248: more lines than one line-table entry spans
    # filler line 249: more lines than one line-table entry spans
    # filler line 250: more lines than one line-table entry spans
    # filler line 251: more lines than one line-table entry spans
    # filler line 252: more lines than one line-table entry spans
    # filler line 253: more lines than one line-table entry spans
    # filler line 254: more lines than one line-table entry spans
    # filler line 255: more lines than one line-table entry spans
    # filler line 256: more lines than one line-table entry spans
    # filler line 257: more lines than one line-table entry spans
    # filler line 258: more lines than one line-table entry spans
    # filler line 259: more lines than one line-table entry spans
    # filler line 260: more lines than one line-table entry spans
    # filler line 261: more lines than one line-table entry spans
    # filler line 262: more lines than one line-table entry spans
    # filler line 263: more lines than one line-table entry spans
    # filler line 264: more lines than one line-table entry spans
    # filler line 265: more lines than one line-table entry spans
    # filler line 266: more lines than one line-table entry spans
    # filler line 267: more lines than one line-table entry spans
    # filler line 268: more lines than one line-table entry spans
    # filler line 269: more lines than one line-table entry spans
    # filler line 270: more lines than one line-table entry spans
    # filler line 271: more lines than one line-table entry spans
    # filler line 272: more lines than one line-table entry spans
    # filler line 273: more lines than one line-table entry spans
    # filler line 274: more lines than one line-table entry spans
    # filler line 275: more lines than one line-table entry spans
    # filler line 276: more lines than one line-table entry spans
    # filler line 277: more lines than one line-table entry spans
    # filler line 278: more lines than one line-table entry spans
    # filler line 279: more lines than one line-table entry spans
    # filler line 280: more lines than one line-table entry spans
    # filler line 281: more lines than one line-table entry spans
    # filler line 282: more lines than one line-table entry spans
    # filler line 283: more lines than one line-table entry spans
    # filler line 284: more lines than one line-table entry spans
    # filler line 285: more lines than one line-table entry spans
    # filler line 286: more lines than one line-table entry spans
    # filler line 287: more lines than one line-table entry spans
    # filler line 288: more lines than one line-table entry spans
    # filler line 289: more lines than one line-table entry spans
    # filler line 290: more lines than one line-table entry spans
    # filler line 291: more lines than one line-table entry spans
    # filler line 292: more lines than one line-table entry spans
    # filler line 293: more lines than one line-table entry spans
    # filler line 294: more lines than one line-table entry spans
    # filler line 295: more lines than one line-table entry spans
    # filler line 296: more lines than one line-table entry spans
    # filler line 297: more lines than one line-table entry spans
    # filler line 298: more lines than one line-table entry spans
    # filler line 299: more lines than one line-table entry spans
    put(Tag())


def long_body():
    put(Tag()) if len(keep) > 0 else put(Tag())
    put(Tag()) if len(keep) > 1 else put(Tag())
    put(Tag()) if len(keep) > 2 else put(Tag())
    put(Tag()) if len(keep) > 3 else put(Tag())
    put(Tag()) if len(keep) > 4 else put(Tag())
    put(Tag()) if len(keep) > 5 else put(Tag())
    put(Tag()) if len(keep) > 6 else put(Tag())
    put(Tag()) if len(keep) > 7 else put(Tag())
    put(Tag()) if len(keep) > 8 else put(Tag())
    put(Tag()) if len(keep) > 9 else put(Tag())
    put(Tag()) if len(keep) > 10 else put(Tag())
    put(Tag()) if len(keep) > 11 else put(Tag())
    put(Tag()) if len(keep) > 12 else put(Tag())
    put(Tag()) if len(keep) > 13 else put(Tag())
    put(Tag()) if len(keep) > 14 else put(Tag())
    put(Tag()) if len(keep) > 15 else put(Tag())
    put(Tag()) if len(keep) > 16 else put(Tag())
    put(Tag()) if len(keep) > 17 else put(Tag())
    put(Tag()) if len(keep) > 18 else put(Tag())
    put(Tag()) if len(keep) > 19 else put(Tag())
    put(Tag()) if len(keep) > 20 else put(Tag())
    put(Tag()) if len(keep) > 21 else put(Tag())
    put(Tag()) if len(keep) > 22 else put(Tag())
    put(Tag()) if len(keep) > 23 else put(Tag())
    put(Tag()) if len(keep) > 24 else put(Tag())
    put(Tag()) if len(keep) > 25 else put(Tag())
    put(Tag()) if len(keep) > 26 else put(Tag())
    put(Tag()) if len(keep) > 27 else put(Tag())
    put(Tag()) if len(keep) > 28 else put(Tag())
    put(Tag()) if len(keep) > 29 else put(Tag())
    put(Tag()) if len(keep) > 30 else put(Tag())
    put(Tag()) if len(keep) > 31 else put(Tag())
    put(Tag()) if len(keep) > 32 else put(Tag())
    put(Tag()) if len(keep) > 33 else put(Tag())
    put(Tag()) if len(keep) > 34 else put(Tag())
    put(Tag()) if len(keep) > 35 else put(Tag())
    put(Tag()) if len(keep) > 36 else put(Tag())
    put(Tag()) if len(keep) > 37 else put(Tag())
    put(Tag()) if len(keep) > 38 else put(Tag())
    put(Tag()) if len(keep) > 39 else put(Tag())
    put(Tag()) if len(keep) > 40 else put(Tag())
    put(Tag()) if len(keep) > 41 else put(Tag())
    put(Tag()) if len(keep) > 42 else put(Tag())
    put(Tag()) if len(keep) > 43 else put(Tag())
    put(Tag()) if len(keep) > 44 else put(Tag())
    put(Tag()) if len(keep) > 45 else put(Tag())
    put(Tag()) if len(keep) > 46 else put(Tag())
    put(Tag()) if len(keep) > 47 else put(Tag())
    put(Tag()) if len(keep) > 48 else put(Tag())
    put(Tag()) if len(keep) > 49 else put(Tag())
    put(Tag()) if len(keep) > 50 else put(Tag())
    put(Tag()) if len(keep) > 51 else put(Tag())
    put(Tag()) if len(keep) > 52 else put(Tag())
    put(Tag()) if len(keep) > 53 else put(Tag())
    put(Tag()) if len(keep) > 54 else put(Tag())
    put(Tag()) if len(keep) > 55 else put(Tag())
    put(Tag()) if len(keep) > 56 else put(Tag())
    put(Tag()) if len(keep) > 57 else put(Tag())
    put(Tag()) if len(keep) > 58 else put(Tag())
    put(Tag()) if len(keep) > 59 else put(Tag())
    put(Tag()) if len(keep) > 60 else put(Tag())
    put(Tag()) if len(keep) > 61 else put(Tag())
    put(Tag()) if len(keep) > 62 else put(Tag())
    put(Tag()) if len(keep) > 63 else put(Tag())
    put(Tag()) if len(keep) > 64 else put(Tag())
    put(Tag()) if len(keep) > 65 else put(Tag())
    put(Tag()) if len(keep) > 66 else put(Tag())
    put(Tag()) if len(keep) > 67 else put(Tag())
    put(Tag()) if len(keep) > 68 else put(Tag())
    put(Tag()) if len(keep) > 69 else put(Tag())
    put(Tag()) if len(keep) > 70 else put(Tag())
    put(Tag()) if len(keep) > 71 else put(Tag())
    put(Tag()) if len(keep) > 72 else put(Tag())
    put(Tag()) if len(keep) > 73 else put(Tag())
    put(Tag()) if len(keep) > 74 else put(Tag())
    put(Tag()) if len(keep) > 75 else put(Tag())
    put(Tag()) if len(keep) > 76 else put(Tag())
    put(Tag()) if len(keep) > 77 else put(Tag())
    put(Tag()) if len(keep) > 78 else put(Tag())
    put(Tag()) if len(keep) > 79 else put(Tag())
    put(Tag()) if len(keep) > 80 else put(Tag())
    put(Tag()) if len(keep) > 81 else put(Tag())
    put(Tag()) if len(keep) > 82 else put(Tag())
    put(Tag()) if len(keep) > 83 else put(Tag())
    put(Tag()) if len(keep) > 84 else put(Tag())
    put(Tag()) if len(keep) > 85 else put(Tag())
    put(Tag()) if len(keep) > 86 else put(Tag())
    put(Tag()) if len(keep) > 87 else put(Tag())
    put(Tag()) if len(keep) > 88 else put(Tag())
    put(Tag()) if len(keep) > 89 else put(Tag())
    put(Tag()) if len(keep) > 90 else put(Tag())
    put(Tag()) if len(keep) > 91 else put(Tag())
    put(Tag()) if len(keep) > 92 else put(Tag())
    put(Tag()) if len(keep) > 93 else put(Tag())
    put(Tag()) if len(keep) > 94 else put(Tag())
    put(Tag()) if len(keep) > 95 else put(Tag())
    put(Tag()) if len(keep) > 96 else put(Tag())
    put(Tag()) if len(keep) > 97 else put(Tag())
    put(Tag()) if len(keep) > 98 else put(Tag())
    put(Tag()) if len(keep) > 99 else put(Tag())
    put(Tag()) if len(keep) > 100 else put(Tag())
    put(Tag()) if len(keep) > 101 else put(Tag())
    put(Tag()) if len(keep) > 102 else put(Tag())
    put(Tag()) if len(keep) > 103 else put(Tag())
    put(Tag()) if len(keep) > 104 else put(Tag())
    put(Tag()) if len(keep) > 105 else put(Tag())
    put(Tag()) if len(keep) > 106 else put(Tag())
    put(Tag()) if len(keep) > 107 else put(Tag())
    put(Tag()) if len(keep) > 108 else put(Tag())
    put(Tag()) if len(keep) > 109 else put(Tag())
    put(Tag()) if len(keep) > 110 else put(Tag())
    put(Tag()) if len(keep) > 111 else put(Tag())
    put(Tag()) if len(keep) > 112 else put(Tag())
    put(Tag()) if len(keep) > 113 else put(Tag())
    put(Tag()) if len(keep) > 114 else put(Tag())
    put(Tag()) if len(keep) > 115 else put(Tag())
    put(Tag()) if len(keep) > 116 else put(Tag())
    put(Tag()) if len(keep) > 117 else put(Tag())
    put(Tag()) if len(keep) > 118 else put(Tag())
    put(Tag()) if len(keep) > 119 else put(Tag())
    put(Tag())


put(Tag())
straight()
loops(4)
for v in range(3):
    branches(v)
handlers()
spanning()
comprehensions()
nested()
for _ in generated():
    pass
gap()
long_body()
print(json.dumps({"lines": sorted(lines), "tag_bytes": sys.getsizeof(Tag())}))
