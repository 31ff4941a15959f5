# The README's two commands: `make demo` and `make test`. Both build .venv first.
SHELL := /bin/bash
VENV := .venv
PY := $(VENV)/bin/python
STAMP := $(VENV)/.installed-stamp
# Debian packages the Python wheels need at run time (open3d, moderngl on EGL,
# Kivy under Xvfb), a CJK font so Chinese never shows as boxes in the apps,
# Chromium for the test that opens the demo report in a real browser, and the
# balancer, message bus and PostgreSQL failover manager the scale tests run.
APT_PACKAGES := python3-venv build-essential libusb-1.0-0 libgomp1 libegl1 \
	libegl-mesa0 libgl1-mesa-dri libgl1 libmtdev1 xvfb xauth fonts-wqy-microhei chromium \
	haproxy nats-server patroni etcd-server postgresql-client
# Node (for the glTF validator) may come from elsewhere than Debian, with its own
# npm: install Debian's only when no npm command is there at all.
NODE_PACKAGES := nodejs npm

.PHONY: demo test lint proto deps venv clean

demo: venv
	$(VENV)/bin/omnifit demo

test: venv
	bash scripts/lint.sh
	bash scripts/run-tests.sh

lint: venv
	bash scripts/lint.sh

proto: venv
	$(PY) -m proto.build

venv: $(STAMP)

deps:
	@missing=$$(for p in $(APT_PACKAGES); do dpkg-query -W -f='$${Status}' $$p 2>/dev/null | grep -q "install ok installed" || echo $$p; done; \
		command -v npm >/dev/null || echo $(NODE_PACKAGES)); \
	if [ -n "$$missing" ]; then \
		if [ "$$(id -u)" = 0 ]; then \
			echo "installing Debian packages: $$missing"; \
			DEBIAN_FRONTEND=noninteractive apt-get update -qq && \
			DEBIAN_FRONTEND=noninteractive apt-get install -y -qq --no-install-recommends $$missing; \
		else \
			echo "missing Debian packages (run as root or: sudo apt-get install $$missing)"; exit 1; \
		fi; \
	fi

$(STAMP): pyproject.toml | deps
	test -x $(PY) || python3 -m venv $(VENV)
	$(PY) -m pip install -q --upgrade pip wheel setuptools
	# A venv made before dlib-bin still has the compiled dlib, whose files dlib-bin would overwrite.
	$(PY) -m pip uninstall -y -q dlib 2>/dev/null || true
	$(PY) -m pip install -e '.[test]'
	# face-recognition declares the dlib sdist (8 minutes of compiling on two cores); dlib-bin,
	# in pyproject's dependencies, is the same dlib module prebuilt, so it goes in without its deps.
	$(PY) -m pip install --no-deps 'face-recognition==1.3.0'
	bash scripts/install-tools.sh
	touch $(STAMP)

clean:
	rm -rf $(VENV) .pytest_cache build *.egg-info
