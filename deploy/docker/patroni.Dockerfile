# PostgreSQL 15 + Patroni from Debian packages, the same versions the local topology runs.
FROM postgres:15-bookworm
RUN apt-get update \
 && apt-get install -y --no-install-recommends patroni curl \
 && rm -rf /var/lib/apt/lists/*
# A fresh named volume takes this dir's owner and mode: PostgreSQL insists on 0700, owned by postgres.
RUN install -d -o postgres -g postgres -m 0700 /var/lib/postgresql/patroni
COPY deploy/docker/patroni.yml /etc/patroni/patroni.yml
COPY deploy/docker/post_bootstrap.sh /etc/patroni/post_bootstrap.sh
USER postgres
# Patroni owns PostgreSQL's lifecycle: the image's docker-entrypoint initdb is bypassed on purpose.
ENTRYPOINT []
CMD ["patroni", "/etc/patroni/patroni.yml"]
