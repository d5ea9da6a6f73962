#!/usr/bin/env bash
# The container image test builds with buildah (build/container).
command -v buildah >/dev/null || echo buildah
