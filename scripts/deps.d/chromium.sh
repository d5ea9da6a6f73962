#!/bin/sh
# The console's browser tests (cmd/alertgw console_browser_test.go) drive
# Debian's headless Chromium with chromedp. fonts-dejavu-core gives the
# screenshots readable text.
command -v chromium >/dev/null 2>&1 || echo chromium
[ -e /usr/share/fonts/truetype/dejavu/DejaVuSans.ttf ] || echo fonts-dejavu-core
