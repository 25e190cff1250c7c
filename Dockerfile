# The orchard binary for docker-compose.yml (not buildable on the
# development machines here: they have no Docker engine).
FROM golang:1.26 AS build
WORKDIR /src
COPY go.mod go.sum ./
RUN go mod download
COPY . .
RUN CGO_ENABLED=0 go build -o /orchard ./cmd/orchard

FROM gcr.io/distroless/static-debian12
COPY --from=build /orchard /orchard
ENTRYPOINT ["/orchard"]
