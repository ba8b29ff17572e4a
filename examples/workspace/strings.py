def shout(text):
    return text.upper()


def initials(name):
    parts = name.split()
    return "".join(p[0] for p in parts)[:-1]
