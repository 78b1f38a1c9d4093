"""One line from schemathesis' JUnit reports and the failures st_hooks.py dismissed.

    python e2e/st_summary.py DISMISSED_TSV JUNIT_XML...
"""

import collections
import re
import sys
import xml.etree.ElementTree as ET

operations, failures = set(), 0
for path in sys.argv[2:]:
    try:
        root = ET.parse(path).getroot()
    except (OSError, ET.ParseError):
        failures += 1  # a run that wrote no report failed
        continue
    for case in root.iter("testcase"):
        if re.match(r"^[A-Z]+ /", case.get("name", "")):
            operations.add(case.get("name"))
        for failure in case.findall("failure") + case.findall("error"):
            failures += len(re.findall(r"^- ST\d+ ", failure.text or "", re.M)) or 1

try:
    with open(sys.argv[1]) as f:
        rules = collections.Counter(line.split("\t")[0] for line in f if line.strip())
except OSError:
    rules = collections.Counter()
note = ", ".join(f"{rule} x{n}" for rule, n in sorted(rules.items()))
print(f"schemathesis: {len(operations)} operations, {failures} failures"
      + (f" (dismissed per API.md: {note})" if note else ""))
