# amqpemu container image: a static binary on a distroless, non-root base.
# docker build -t amqpemu . && docker run -p 5672:5672 -p 8080:8080 amqpemu
FROM golang:1.26-bookworm AS build
WORKDIR /src
COPY go.mod go.sum ./
RUN go mod download
COPY . .
# CGO off: a static binary that runs on the distroless "static" base.
RUN CGO_ENABLED=0 go build -trimpath -ldflags="-s -w" -o /out/amqpemu ./cmd/amqpemu \
 && mkdir -p /out/data

FROM gcr.io/distroless/static-debian12:nonroot
COPY --from=build /out/amqpemu /usr/local/bin/amqpemu
# The data directory belongs to the image's non-root user (65532), so a
# fresh named volume mounted there is writable.
COPY --from=build --chown=65532:65532 /out/data /data
USER 65532:65532
VOLUME /data
# Every listener on all interfaces: beyond loopback, amqpemu turns anonymous
# AMQP/STOMP/MQTT off and asks for the access key on the REST API and the
# console (see README, Security notes). The generated TLS certificate also
# names "amqpemu", the service name in docker-compose.yml.
ENV AMQPEMU_DATA=/data \
    AMQPEMU_LISTEN_ALL=true \
    AMQPEMU_TLS_HOSTS=amqpemu \
    AMQPEMU_LOG_FORMAT=json
EXPOSE 5672 5671 61613 61614 1883 8080
HEALTHCHECK --interval=10s --timeout=5s --start-period=20s --retries=3 \
  CMD ["/usr/local/bin/amqpemu", "health", "--server", "http://127.0.0.1:8080"]
ENTRYPOINT ["/usr/local/bin/amqpemu"]
CMD ["serve"]
