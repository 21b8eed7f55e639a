package terraform

import (
	"errors"
	"fmt"
	"slices"
	"testing"
	"time"

	"github.com/aws/aws-sdk-go-v2/aws"
	"github.com/aws/aws-sdk-go-v2/service/elasticache"
	"github.com/aws/aws-sdk-go-v2/service/elasticache/types"
)

// usersTF is two aws_elasticache_user resources, one replacing the default
// user (user name `default`, its own ID), and an aws_elasticache_user_group
// holding both, as the provider's documentation shows them.
func usersTF(accessString, env string) string {
	return fmt.Sprintf(`resource "aws_elasticache_user" "app" {
  user_id       = "app-user"
  user_name     = "app"
  access_string = %q
  engine        = "REDIS"
  passwords     = ["app-password-0123456789"]
  tags = {
    env = %q
  }
}

resource "aws_elasticache_user" "default" {
  user_id       = "my-default"
  user_name     = "default"
  access_string = "off -@all"
  engine        = "redis"

  authentication_mode {
    type      = "password"
    passwords = ["default-password-0123456789"]
  }
}

resource "aws_elasticache_user_group" "this" {
  engine        = "REDIS"
  user_group_id = "app-group"
  user_ids      = [aws_elasticache_user.default.user_id, aws_elasticache_user.app.user_id]
  tags = {
    env = %q
  }
}
`, accessString, env, env)
}

// userDataTF reads the app user back through the data source.
const userDataTF = `
data "aws_elasticache_user" "app" {
  user_id = aws_elasticache_user.app.user_id
}

output "access_string" {
  value = data.aws_elasticache_user.app.access_string
}

output "engine" {
  value = data.aws_elasticache_user.app.engine
}

output "user_name" {
  value = data.aws_elasticache_user.app.user_name
}
`

// TestUsers is aws_elasticache_user's and aws_elasticache_user_group's
// life: create (the waiters see creating, then active), no diff, change
// an access string and tags in place, no diff, import the group into a
// fresh state with no diff, read the user through the data source,
// destroy. The Go SDK checks what the server
// holds.
func TestUsers(t *testing.T) {
	t.Parallel()
	start := time.Now()
	srv := startServer(t)
	ec := sdkClient(t, srv)

	tf := newTerraform(t, srv.URL)
	tf.write(usersTF("on ~app:* -@all +@read", "test"))
	tf.apply()
	u := wantUser(t, ec, "app-user")
	if aws.ToString(u.AccessString) != "on ~app:* -@all +@read" || aws.ToString(u.Engine) != "redis" || aws.ToInt32(u.Authentication.PasswordCount) != 1 ||
		!slices.Equal(u.UserGroupIds, []string{"app-group"}) {
		t.Errorf("app-user on the server = %+v", u)
	}
	g, err := ec.DescribeUserGroups(t.Context(), &elasticache.DescribeUserGroupsInput{UserGroupId: aws.String("app-group")})
	if err != nil {
		t.Fatal(err)
	}
	if ug := g.UserGroups[0]; !slices.Equal(ug.UserIds, []string{"app-user", "my-default"}) || aws.ToString(ug.Status) != "active" {
		t.Errorf("app-group on the server = %+v", ug)
	}
	tf.planIsClean()

	updatedTF := usersTF("on ~app:* -@all +@read +@write", "prod")
	tf.write(updatedTF)
	tf.apply()
	u = wantUser(t, ec, "app-user")
	if aws.ToString(u.AccessString) != "on ~app:* -@all +@read +@write" {
		t.Errorf("access string after update = %q", aws.ToString(u.AccessString))
	}
	tags, err := ec.ListTagsForResource(t.Context(), &elasticache.ListTagsForResourceInput{ResourceName: u.ARN})
	if err != nil || len(tags.TagList) != 1 || aws.ToString(tags.TagList[0].Value) != "prod" {
		t.Errorf("tags of app-user = %+v, %v", tags, err)
	}
	tf.planIsClean()

	// The group imports cleanly; users would not (passwords cannot be read
	// back, by AWS either).
	imported := newTerraform(t, srv.URL)
	imported.write(`resource "aws_elasticache_user_group" "this" {
  engine        = "REDIS"
  user_group_id = "app-group"
  user_ids      = ["my-default", "app-user"]
  tags = {
    env = "prod"
  }
}
`)
	imported.importResource("aws_elasticache_user_group.this", "app-group")
	imported.planIsClean()

	tf.write(updatedTF + userDataTF)
	tf.apply()
	state := tf.state()
	res := state.resource(t, "aws_elasticache_user.app")
	for _, attr := range []string{"access_string", "engine", "user_name"} {
		if got := state.output(t, attr); got != res[attr] {
			t.Errorf("data source %s = %v, the resource's %v", attr, got, res[attr])
		}
	}

	tf.destroy()
	for _, id := range []string{"app-user", "my-default"} {
		_, err := ec.DescribeUsers(t.Context(), &elasticache.DescribeUsersInput{UserId: aws.String(id)})
		var notFound *types.UserNotFoundFault
		if !errors.As(err, &notFound) {
			t.Errorf("describe user %s after destroy: %v, want UserNotFoundFault", id, err)
		}
	}
	_, err = ec.DescribeUserGroups(t.Context(), &elasticache.DescribeUserGroupsInput{UserGroupId: aws.String("app-group")})
	var notFound *types.UserGroupNotFoundFault
	if !errors.As(err, &notFound) {
		t.Errorf("describe app-group after destroy: %v, want UserGroupNotFoundFault", err)
	}
	t.Logf("TestUsers took %s", time.Since(start).Round(100*time.Millisecond))
}

func wantUser(t testing.TB, ec *elasticache.Client, id string) types.User {
	t.Helper()
	out, err := ec.DescribeUsers(t.Context(), &elasticache.DescribeUsersInput{UserId: aws.String(id)})
	if err != nil {
		t.Fatalf("describe user %s: %v", id, err)
	}
	return out.Users[0]
}
