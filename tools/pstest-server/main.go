// pstest-server serves Google's pstest Pub/Sub fake over gRPC on one address, for PUBSUB_EMULATOR_HOST.
//
// It adds what the real service does and pstest (cloud.google.com/go v0.56) does not: ReceivedMessage.delivery_attempt,
// counted per subscription and set only when the subscription has a dead_letter_policy (as the service does).
package main

import (
	"context"
	"flag"
	"fmt"
	"log"
	"net"
	"os"
	"os/signal"
	"sync"
	"syscall"

	"cloud.google.com/go/pubsub/pstest"
	pb "google.golang.org/genproto/googleapis/pubsub/v1"
	"google.golang.org/grpc"
)

// attempts counts deliveries of each message id per subscription.
type attempts struct {
	mu     sync.Mutex
	counts map[string]map[string]int32
	fake   *pstest.GServer
}

func (a *attempts) hasDeadLetterPolicy(ctx context.Context, subscription string) bool {
	sub, err := a.fake.GetSubscription(ctx, &pb.GetSubscriptionRequest{Subscription: subscription})
	return err == nil && sub.GetDeadLetterPolicy() != nil
}

func (a *attempts) stamp(ctx context.Context, subscription string, received []*pb.ReceivedMessage) {
	if len(received) == 0 || !a.hasDeadLetterPolicy(ctx, subscription) {
		return
	}
	a.mu.Lock()
	defer a.mu.Unlock()
	perSub := a.counts[subscription]
	if perSub == nil {
		perSub = map[string]int32{}
		a.counts[subscription] = perSub
	}
	for _, rm := range received {
		perSub[rm.GetMessage().GetMessageId()]++
		rm.DeliveryAttempt = perSub[rm.GetMessage().GetMessageId()]
	}
}

func (a *attempts) unary(ctx context.Context, req interface{}, info *grpc.UnaryServerInfo, handler grpc.UnaryHandler) (interface{}, error) {
	resp, err := handler(ctx, req)
	if pull, ok := req.(*pb.PullRequest); ok && err == nil {
		a.stamp(ctx, pull.GetSubscription(), resp.(*pb.PullResponse).GetReceivedMessages())
	}
	return resp, err
}

// streamingPull remembers the subscription from the first request and stamps every response.
type streamingPull struct {
	grpc.ServerStream
	attempts     *attempts
	subscription string
}

func (s *streamingPull) RecvMsg(m interface{}) error {
	err := s.ServerStream.RecvMsg(m)
	if req, ok := m.(*pb.StreamingPullRequest); ok && err == nil && req.GetSubscription() != "" {
		s.subscription = req.GetSubscription()
	}
	return err
}

func (s *streamingPull) SendMsg(m interface{}) error {
	if resp, ok := m.(*pb.StreamingPullResponse); ok {
		s.attempts.stamp(s.Context(), s.subscription, resp.GetReceivedMessages())
	}
	return s.ServerStream.SendMsg(m)
}

func (a *attempts) stream(srv interface{}, ss grpc.ServerStream, info *grpc.StreamServerInfo, handler grpc.StreamHandler) error {
	return handler(srv, &streamingPull{ServerStream: ss, attempts: a})
}

func main() {
	host := flag.String("host", "127.0.0.1", "address to listen on")
	port := flag.Int("port", 8085, "port to listen on")
	flag.Parse()

	fake := pstest.NewServer() // also listens on its own localhost port; we serve its GServer on ours
	defer fake.Close()
	a := &attempts{counts: map[string]map[string]int32{}, fake: &fake.GServer}
	server := grpc.NewServer(grpc.UnaryInterceptor(a.unary), grpc.StreamInterceptor(a.stream),
		grpc.MaxRecvMsgSize(20<<20))
	pb.RegisterPublisherServer(server, &fake.GServer)
	pb.RegisterSubscriberServer(server, &fake.GServer)

	listener, err := net.Listen("tcp", net.JoinHostPort(*host, fmt.Sprint(*port)))
	if err != nil {
		log.Fatalf("pstest-server: %v", err)
	}
	stop := make(chan os.Signal, 1)
	signal.Notify(stop, syscall.SIGTERM, syscall.SIGINT)
	go func() {
		<-stop
		server.Stop()
	}()
	log.Printf("pstest-server: listening on %s", listener.Addr())
	if err := server.Serve(listener); err != nil {
		log.Fatalf("pstest-server: %v", err)
	}
}
