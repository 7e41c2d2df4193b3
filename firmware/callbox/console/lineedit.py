"""Line editing for the serial console: echo, backspace, tab completion, history, Ctrl-C.

A serial terminal (screen, minicom, PuTTY, the laptop tool) sends raw bytes and
echoes nothing itself, so the box echoes what it accepts. Bytes in, actions out:

* printable characters (UTF-8) are added to the line and echoed; at
  ``MAX_LINE`` characters more input rings the bell and is dropped;
* Backspace/DEL remove the last character; Ctrl-U clears the line;
* CR, LF or CR LF end the line; Tab asks the completer; Up/Down walk the history
  (``HISTORY`` lines, no duplicates in a row, nothing typed at a password);
* Ctrl-C cancels the line (and stops a running monitor); Ctrl-D on an empty line
  logs out;
* anything else (line noise, NUL from a break, stray escape sequences, invalid
  UTF-8) is dropped and counted, never passed on as a command.
"""
MAX_LINE = 512
HISTORY = 50


class LineEditor:
    """Args:
        write (callable): write(str) to the terminal.
        prompt (callable): () -> the prompt to redraw after completion lists.
        complete (callable): (text before the cursor) -> list of completions for its last word.
    """

    def __init__(self, write, prompt, complete):
        self.write = write
        self.prompt = prompt
        self.complete = complete
        self.buf = ""
        self.echo = True             # False while a password is typed
        self.history = []
        self.hpos = None
        self.dropped = 0
        self._pending = b""          # an incomplete UTF-8 or escape sequence
        self._skip_lf = False

    def feed(self, data):
        """Feed received bytes; returns a list of events: ("line", text), ("interrupt",), ("eof",)."""
        events = []
        data = self._pending + data
        self._pending = b""
        i = 0
        while i < len(data):
            b = data[i]
            if b == 0x1B:                                  # escape sequence
                if i + 2 >= len(data) and data[i + 1:i + 2] in (b"", b"["):
                    self._pending = data[i:]
                    break
                if data[i + 1:i + 2] == b"[":
                    j = i + 2
                    while j < len(data) and not 0x40 <= data[j] <= 0x7E:
                        j += 1
                    if j >= len(data):
                        self._pending = data[i:]
                        break
                    self._escape(data[i + 2:j + 1])
                    i = j + 1
                else:
                    self.dropped += 1
                    i += 2
                continue
            if b in (0x0D, 0x0A):
                if b == 0x0A and self._skip_lf:
                    self._skip_lf = False
                    i += 1
                    continue
                self._skip_lf = b == 0x0D
                events.append(("line", self._finish()))
                i += 1
                continue
            self._skip_lf = False
            if b in (0x08, 0x7F):
                if self.buf:
                    self.buf = self.buf[:-1]
                    if self.echo:
                        self.write("\b \b")
            elif b == 0x15:                                # Ctrl-U
                self._replace("")
            elif b == 0x09:
                self._tab()
            elif b == 0x03:                                # Ctrl-C
                self.buf = ""
                self.hpos = None
                events.append(("interrupt",))
            elif b == 0x04:                                # Ctrl-D
                if not self.buf:
                    events.append(("eof",))
            elif b < 0x20:
                self.dropped += 1
            elif b < 0x80:
                self._add(chr(b))
            else:                                          # UTF-8 sequence
                n = 2 if b >> 5 == 0b110 else 3 if b >> 4 == 0b1110 else 4 if b >> 3 == 0b11110 else 0
                if not n:
                    self.dropped += 1
                elif i + n > len(data):
                    self._pending = data[i:]
                    break
                else:
                    try:
                        ch = data[i:i + n].decode("utf-8")
                    except UnicodeDecodeError:
                        self.dropped += 1
                    else:
                        if ch.isprintable():
                            self._add(ch)
                        else:
                            self.dropped += 1
                    i += n
                    continue
            i += 1
        return events

    def _add(self, ch):
        if len(self.buf) >= MAX_LINE:
            self.write("\a")
            return
        self.buf += ch
        if self.echo:
            self.write(ch)

    def _finish(self):
        line, self.buf, self.hpos = self.buf, "", None
        self.write("\r\n")
        if self.echo and line.strip() and (not self.history or self.history[-1] != line):
            self.history.append(line)
            del self.history[:-HISTORY]
        return line

    def _replace(self, text):
        if self.echo:
            self.write("\r%s%s\x1b[K" % (self.prompt(), text))
        self.buf = text

    def _escape(self, seq):
        if not self.echo or not self.history or seq not in (b"A", b"B"):
            return
        if seq == b"A":
            self.hpos = len(self.history) - 1 if self.hpos is None else max(0, self.hpos - 1)
            self._replace(self.history[self.hpos])
        elif self.hpos is not None:
            self.hpos += 1
            if self.hpos >= len(self.history):
                self.hpos = None
                self._replace("")
            else:
                self._replace(self.history[self.hpos])

    def _tab(self):
        if not self.echo:
            return
        word = self.buf.split(" ")[-1]
        options = sorted(set(self.complete(self.buf)))
        if not options:
            self.write("\a")
            return
        common = options[0]
        for o in options[1:]:
            while not o.startswith(common):
                common = common[:-1]
        if len(options) == 1:
            common += " "
        if len(common) > len(word):
            extra = common[len(word):]
            self.buf += extra
            self.write(extra)
        elif len(options) > 1:
            self.write("\r\n" + "  ".join(options) + "\r\n" + self.prompt() + self.buf)
